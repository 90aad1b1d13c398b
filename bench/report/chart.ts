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
              sort: ["parley", "parley-ws", "grpc-js", "ws", "http2-floor"],
            },
            y: { field: "value", type: "quantitative", title: null },
            color: { field: "target", type: "nominal", legend: null },
          },
        },
        {
          mark: { type: "text", dy: -6, fontSize: 10 },
          encoding: {
            x: {
              field: "target",
              type: "nominal",
              sort: ["parley", "parley-ws", "grpc-js", "ws", "http2-floor"],
            },
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

/**
 * Latency against load (rows with loadPercent): p50 and p99 of each target
 * at each fraction of its own maximum, one line per target and quantile,
 * on a log scale so that milliseconds and hundreds of them both read.
 */
export async function curveSvg(rows: readonly Row[], title: string): Promise<string> {
  const points = rows.flatMap((r) =>
    r.loadPercent === undefined
      ? []
      : [
          { target: r.target, load: r.loadPercent, quantile: "p99", ms: r.p99Ms },
          { target: r.target, load: r.loadPercent, quantile: "p50", ms: r.p50Ms },
        ],
  );
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 480,
    height: 300,
    data: { values: points },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: { strokeDash: { field: "quantile", type: "nominal", sort: ["p99", "p50"] } },
      },
      {
        mark: { type: "text", dx: 14, dy: -6, fontSize: 9 },
        encoding: { text: { field: "ms", type: "quantitative", format: ".3~r" } },
      },
    ],
    encoding: {
      x: {
        field: "load",
        type: "quantitative",
        title: "offered message rate, % of the target's own maximum",
        scale: { domain: [0, 80] },
      },
      y: {
        field: "ms",
        type: "quantitative",
        title: "end-to-end latency (ms, log scale)",
        scale: { type: "log" },
      },
      color: { field: "target", type: "nominal", sort: ["parley", "parley-jwt", "grpc-js", "ws"] },
      detail: [{ field: "target" }, { field: "quantile" }],
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
