import { type SuiteContext, startFor } from "../suite/context.js";
import { errorCount, latencyOf, median, perSecond } from "../suite/measure.js";
import type { Row } from "../suite/row.js";
import type { Target } from "../suite/targets.js";
import { fanOutWindow, type Window } from "./fan-out.js";

/**
 * Fan-out latency against load: each target's maximum message rate (the
 * fan-out load as fast as delivered, median of the runs), then p50 and p99
 * at fixed fractions of that maximum (sizes.curve). The curve shows whether
 * latency grows smoothly with load or jumps before the maximum. parley-ws is
 * left out: the same server as "parley", and the curve's run time is what
 * it is per target. Parley runs on its default store as in the fan-out rows.
 */
export async function fanOutCurve(ctx: SuiteContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of ctx.targets.filter((t) => t !== "parley-ws")) {
    const target = await startFor(ctx, name);
    try {
      rows.push(...(await curveOn(ctx, target)));
    } finally {
      await target.stop();
    }
  }
  return rows;
}

async function curveOn(ctx: SuiteContext, target: Target): Promise<Row[]> {
  const max: Window[] = [];
  for (let r = 0; r < ctx.sizes.runs; r++) {
    max.push(await fanOutWindow(ctx, target, `curve-max-${r}`, null));
  }
  const maxRate = median(max.map((w) => perSecond(w.results.publisher)));
  ctx.log(`fan-out curve ${target.name}: maximum ${maxRate.toFixed(0)} msg/s`);
  const point = { ...ctx, sizes: { ...ctx.sizes, measureMs: ctx.sizes.curve.measureMs } };
  const rows: Row[] = [];
  for (const fraction of ctx.sizes.curve.fractions) {
    const rate = Math.max(1, Math.round(maxRate * fraction));
    const percent = Math.round(fraction * 100);
    const windows: Window[] = [];
    for (let r = 0; r < ctx.sizes.runs; r++) {
      const w = await fanOutWindow(point, target, `curve-${percent}-${r}`, rate);
      windows.push(w);
      const l = latencyOf([w.results.subscribers]);
      ctx.log(
        `fan-out curve ${target.name} ${percent}% (${rate} msg/s) run ${r + 1}: p50 ${l.p50} ms p99 ${l.p99} ms, server ${w.serverCpu.toFixed(0)}% machine ${w.machineCpu.toFixed(0)}%`,
      );
    }
    const runsP99 = windows.map((w) => latencyOf([w.results.subscribers]).p99);
    const runsP50 = windows.map((w) => latencyOf([w.results.subscribers]).p50);
    rows.push({
      scenario: `fan-out latency at ${percent}% of own max`,
      target: target.name,
      unit: "p99 ms",
      higherIsBetter: false,
      value: median(runsP99),
      runs: runsP99,
      p50Ms: median(runsP50),
      p99Ms: median(runsP99),
      serverCpu: median(windows.map((w) => w.serverCpu)),
      loadCpu: median(windows.map((w) => w.loadCpu)),
      machineCpu: median(windows.map((w) => w.machineCpu)),
      errors: windows.reduce((n, w) => n + errorCount(w.results.subscribers), 0),
      loadPercent: percent,
      note: `at ${rate} msg/s of a ${maxRate.toFixed(0)} msg/s maximum, ${ctx.sizes.fanOut.subscribers} subscribers`,
    });
  }
  return rows;
}
