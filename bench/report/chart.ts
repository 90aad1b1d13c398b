import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Row } from "../suite/row.js";

/**
 * A bar chart per scenario comparing the targets, as SVG, drawn by Vega-Lite
 * (compiled to Vega and rendered headless: no canvas needed for SVG).
 */
export async function chartSvg(rows: readonly Row[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    data: {
      values: rows.map((r) => ({
        panel: `${r.scenario} (${r.unit}, ${r.higherIsBetter ? "higher" : "lower"} is better)`,
        target: r.target,
        value: r.value,
      })),
    },
    facet: { field: "panel", type: "nominal", title: null, header: { labelFontSize: 11 } },
    columns: 3,
    spec: {
      width: 170,
      height: 150,
      layer: [
        {
          mark: "bar",
          encoding: {
            x: {
              field: "target",
              type: "nominal",
              title: null,
              sort: ["parley", "parley-ws", "grpc-js", "ws"],
            },
            y: { field: "value", type: "quantitative", title: null },
            color: { field: "target", type: "nominal", legend: null },
          },
        },
        {
          mark: { type: "text", dy: -6, fontSize: 10 },
          encoding: {
            x: { field: "target", type: "nominal", sort: ["parley", "parley-ws", "grpc-js", "ws"] },
            y: { field: "value", type: "quantitative" },
            text: { field: "value", type: "quantitative", format: ",.3~s" },
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
