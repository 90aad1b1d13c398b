import { startAgent } from "../suite/agents.js";
import { AGENT_MAX_SECONDS, type SuiteContext, startFor } from "../suite/context.js";
import { errorCount, latencyOf, measureWindow, median, perSecond } from "../suite/measure.js";
import { roomPublisher, roomSubscribers } from "../suite/room-load.js";
import type { Row } from "../suite/row.js";
import { startTarget, type Target } from "../suite/targets.js";

/**
 * Fan-out: one room, many subscribers over a few connections. First the
 * publisher sends as fast as messages are delivered (a probe subscriber
 * bounds how far it runs ahead): deliveries per second. Then it sends at
 * half that message rate, and at a rate every target gets alike
 * (sizes.fanOut.sameRate): end-to-end latency from the stamp in each text.
 */
export async function fanOut(ctx: SuiteContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of ctx.targets) {
    const target = await startFor(ctx, name, true);
    try {
      rows.push(...(await fanOutOn(ctx, target)));
    } finally {
      await target.stop();
    }
  }
  if (ctx.targets.includes("parley")) rows.push(await sameRateOnMemory(ctx));
  return rows;
}

/**
 * Parley's latency rows include the SQLite commit (fsync) each message waits
 * for before it is published; the baselines store nothing. The same-rate runs
 * again on the memory store separate the fan-out path from the disk.
 */
async function sameRateOnMemory(ctx: SuiteContext): Promise<Row> {
  const target = await startTarget("parley", { store: "memory:" });
  try {
    const runs = await latencyRuns(ctx, target, ctx.sizes.fanOut.sameRate, "same rate, memory");
    return latencyRow(
      target,
      runs,
      "fan-out latency, same rate, memory store",
      `at ${ctx.sizes.fanOut.sameRate} msg/s, Parley on its memory store`,
    );
  } finally {
    await target.stop();
  }
}

export type Window = Awaited<ReturnType<typeof measureWindow>>;

/** One window of the fan-out load: as fast as delivered (rate null) or at `rate` msg/s (also the latency curve's). */
export async function fanOutWindow(
  ctx: SuiteContext,
  target: Target,
  room: string,
  rate: number | null,
): Promise<Window> {
  const { sizes } = ctx;
  const s = sizes.fanOut;
  const [subscribers, publisher] = await Promise.all([
    startAgent(
      roomSubscribers(target, room, {
        streams: s.subscribers,
        connections: s.connections,
        latency: rate !== null,
      }),
      AGENT_MAX_SECONDS,
    ),
    startAgent(
      roomPublisher(target, room, {
        textBytes: sizes.textBytes,
        window: s.window,
        rate,
        maxLag: s.maxLag,
      }),
      AGENT_MAX_SECONDS,
    ),
  ]);
  try {
    return await measureWindow(
      target.pid,
      { subscribers, publisher },
      sizes.warmupMs,
      sizes.measureMs,
    );
  } finally {
    await publisher.close();
    await subscribers.close();
  }
}

async function latencyRuns(
  ctx: SuiteContext,
  target: Target,
  rate: number,
  label: string,
): Promise<Window[]> {
  const windows = [];
  for (let r = 0; r < ctx.sizes.runs; r++) {
    const w = await fanOutWindow(ctx, target, `fan-lat-${rate}-${r}`, rate);
    windows.push(w);
    const l = latencyOf([w.results.subscribers]);
    ctx.log(
      `fan-out latency (${label}) ${target.name} run ${r + 1}: ${rate} msg/s, p50 ${l.p50} ms p99 ${l.p99} ms`,
    );
  }
  return windows;
}

function latencyRow(target: Target, windows: Window[], scenario: string, note: string): Row {
  const latency = latencyOf(windows.map((w) => w.results.subscribers));
  return {
    scenario,
    target: target.name,
    unit: "p99 ms",
    higherIsBetter: false,
    value: latency.p99,
    runs: windows.map((w) => latencyOf([w.results.subscribers]).p99),
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    serverCpu: median(windows.map((w) => w.serverCpu)),
    loadCpu: median(windows.map((w) => w.loadCpu)),
    machineCpu: median(windows.map((w) => w.machineCpu)),
    errors: windows.reduce((n, w) => n + errorCount(w.results.subscribers), 0),
    note,
  };
}

async function fanOutOn(ctx: SuiteContext, target: Target): Promise<Row[]> {
  const max = [];
  for (let r = 0; r < ctx.sizes.runs; r++) {
    const w = await fanOutWindow(ctx, target, `fan-max-${r}`, null);
    max.push(w);
    ctx.log(
      `fan-out ${target.name} run ${r + 1}: ${perSecond(w.results.subscribers).toFixed(0)} deliveries/s, server ${w.serverCpu.toFixed(0)}% load ${w.loadCpu.toFixed(0)}% machine ${w.machineCpu.toFixed(0)}%`,
    );
  }
  const messageRate = median(max.map((w) => perSecond(w.results.publisher)));
  const halfRate = Math.max(1, Math.round(messageRate / 2));
  const sameRate = ctx.sizes.fanOut.sameRate;
  const lat = await latencyRuns(ctx, target, halfRate, "half of max");
  const same = await latencyRuns(ctx, target, sameRate, "same rate");
  const deliveries = max.map((w) => perSecond(w.results.subscribers));
  // On a machine shared with other work the server gets what CPU it can:
  // deliveries per second of server CPU compare targets whatever each got.
  const perCpuSecond = max.map((w, i) => (deliveries[i] as number) / (w.serverCpu / 100));
  return [
    {
      scenario: "fan-out",
      target: target.name,
      unit: "deliveries/s",
      higherIsBetter: true,
      value: median(deliveries),
      runs: deliveries,
      serverCpu: median(max.map((w) => w.serverCpu)),
      loadCpu: median(max.map((w) => w.loadCpu)),
      machineCpu: median(max.map((w) => w.machineCpu)),
      errors: max.reduce((n, w) => n + errorCount(w.results.subscribers), 0),
      note: `${ctx.sizes.fanOut.subscribers} subscribers, ${messageRate.toFixed(0)} msg/s`,
    },
    {
      scenario: "fan-out per server CPU-second",
      target: target.name,
      unit: "deliveries/CPU-s",
      higherIsBetter: true,
      value: median(perCpuSecond),
      runs: perCpuSecond,
      serverCpu: median(max.map((w) => w.serverCpu)),
      loadCpu: median(max.map((w) => w.loadCpu)),
      machineCpu: median(max.map((w) => w.machineCpu)),
      errors: max.reduce((n, w) => n + errorCount(w.results.subscribers), 0),
      note: "each run's deliveries/s over its server CPU (1 = one core busy)",
    },
    latencyRow(target, lat, "fan-out latency", `at ${halfRate} msg/s (half of max)`),
    latencyRow(
      target,
      same,
      "fan-out latency, same rate",
      `at ${sameRate} msg/s (every target alike)`,
    ),
  ];
}
