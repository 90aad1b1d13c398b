import type { Row } from "../suite/row.js";

/** Value of `row` over the same scenario's value for `baseline`, or undefined. */
export function ratio(rows: readonly Row[], row: Row, baseline: string): number | undefined {
  const base = rows.find((r) => r.scenario === row.scenario && r.target === baseline);
  if (!base || base === row || !(base.value > 0)) return undefined;
  return row.value / base.value;
}

const num = (x: number | undefined, digits = 0) =>
  x === undefined || Number.isNaN(x)
    ? "-"
    : x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The figures as a plain-text table (also valid Markdown). */
export function formatTable(rows: readonly Row[]): string {
  const header = [
    "scenario",
    "target",
    "value",
    "unit",
    "p50 ms",
    "p99 ms",
    "server CPU",
    "load CPU",
    "machine CPU",
    "errors",
    "vs grpc-js",
    "vs ws",
    "note",
  ];
  const lines = rows.map((r) => {
    const small = r.value < 100;
    const vsGrpc = ratio(rows, r, "grpc-js");
    const vsWs = ratio(rows, r, "ws");
    return [
      r.scenario,
      r.target,
      num(r.value, small ? 2 : 0),
      r.unit,
      num(r.p50Ms, 2),
      num(r.p99Ms, 2),
      r.serverCpu === undefined ? "-" : `${num(r.serverCpu)}%`,
      r.loadCpu === undefined ? "-" : `${num(r.loadCpu)}%`,
      r.machineCpu === undefined ? "-" : `${num(r.machineCpu)}%`,
      num(r.errors),
      vsGrpc === undefined ? "-" : `${num(vsGrpc, 2)}x`,
      vsWs === undefined ? "-" : `${num(vsWs, 2)}x`,
      r.note ?? "",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt)].join("\n");
}
