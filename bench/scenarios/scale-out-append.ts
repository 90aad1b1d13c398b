import { startAgent } from "../suite/agents.js";
import { type BenchRedis, redisMissing } from "../suite/bench-redis.js";
import { AGENT_MAX_SECONDS, type SuiteContext } from "../suite/context.js";
import { deploy, perThousand, type Setup } from "../suite/deployment.js";
import { errorCount, measureWindow, median, perSecond } from "../suite/measure.js";
import type { Row } from "../suite/row.js";
import { verifyDurable } from "./durable-append.js";

/** SQLite first: the durable store the Redis rows are read against. */
const SETUPS: Setup[] = [
  { label: "SQLite", engine: "sqlite", nodes: 1 },
  { label: "Redis, appendfsync always", engine: "redis", nodes: 1, appendfsync: "always" },
  { label: "Redis, appendfsync everysec", engine: "redis", nodes: 1, appendfsync: "everysec" },
];

type Window = Awaited<ReturnType<typeof measureWindow>>;

/**
 * Rooms the send agent writes to; each run its own, so the check after it
 * reads only what that run stored.
 */
const roomsOf = (ctx: SuiteContext, run: number) =>
  Array.from({ length: ctx.sizes.append.rooms }, (_, i) => `scale-append-${run}-${i}`);

/**
 * Per room, the stream holds seqs 1..n with no gap (its length is its last
 * seq: retention is far above what a run stores), and together at least as
 * many messages as were acknowledged. Throws otherwise; returns the count.
 */
function verifyRedis(redis: BenchRedis, rooms: string[], acknowledged: number): number {
  let stored = 0;
  for (const room of rooms) {
    const length = Number(redis.cli("XLEN", `parley:{${room}}:log`));
    const last = Number(redis.cli("HGET", `parley:{${room}}:meta`, "seq") || "0");
    if (length !== last) throw new Error(`scale-out append: room ${room} has a gap`);
    stored += length;
  }
  if (stored < acknowledged)
    throw new Error(`scale-out append: ${acknowledged} acknowledged but ${stored} in Redis`);
  return stored;
}

/**
 * Durable append on Redis against SQLite: the durable-append load (64
 * concurrent unary Sends, each awaiting its ack) on one node per setup,
 * afterwards every acknowledged message checked to be in the store. With
 * redis-server's CPU per 1,000 messages: what Redis costs besides the node.
 */
export async function scaleOutAppend(ctx: SuiteContext): Promise<Row[]> {
  if (!ctx.targets.includes("parley")) return [];
  const missing = redisMissing();
  if (missing) {
    ctx.log(`SKIPPED the Redis scale-out append rows: ${missing}`);
    return [];
  }
  const s = ctx.sizes.append;
  const windows = new Map<Setup, Window[]>(SETUPS.map((setup) => [setup, []]));
  const checked = new Map<Setup, { acknowledged: number; stored: number }>();
  // Setups take turns run by run, so the machine's other load spreads over all of them.
  for (let r = 0; r < ctx.sizes.runs; r++) {
    for (const setup of SETUPS) {
      const d = await deploy(ctx, setup);
      try {
        const node = d.nodes[0];
        if (!node) throw new Error("a deployment without nodes");
        const rooms = roomsOf(ctx, r);
        const senders = await startAgent(
          {
            kind: "send",
            wire: "grpc",
            url: node.url,
            senders: s.senders,
            connections: s.connections,
            rooms,
            textBytes: ctx.sizes.textBytes,
          },
          AGENT_MAX_SECONDS,
        );
        const w = await measureWindow(
          node.pid,
          { senders },
          ctx.sizes.warmupMs,
          ctx.sizes.measureMs,
          d.others,
        );
        const total = await senders.close();
        windows.get(setup)?.push(w);
        ctx.log(
          `scale-out append (${setup.label}) run ${r + 1}: ${perSecond(w.results.senders).toFixed(0)} acks/s, node ${w.serverCpu.toFixed(0)}%${d.redis ? ` redis ${(((w.otherCpuMs.redis ?? 0) / w.elapsedMs) * 100).toFixed(0)}%` : ""} machine ${w.machineCpu.toFixed(0)}%`,
        );
        // Stop the node first: every acknowledged append is then in the store.
        await node.stop();
        const stored = d.redis
          ? verifyRedis(d.redis, rooms, total)
          : verifyDurable(d.sqlitePath ?? "", total);
        const sums = checked.get(setup) ?? { acknowledged: 0, stored: 0 };
        checked.set(setup, {
          acknowledged: sums.acknowledged + total,
          stored: sums.stored + stored,
        });
      } finally {
        await d.stop();
      }
    }
  }
  return SETUPS.flatMap((setup) =>
    rowsOf(ctx, setup, windows.get(setup) ?? [], checked.get(setup)),
  );
}

function rowsOf(
  ctx: SuiteContext,
  setup: Setup,
  windows: Window[],
  checked: { acknowledged: number; stored: number } | undefined,
): Row[] {
  const acks = (w: Window) => w.results.senders?.count ?? 0;
  const runs = windows.map((w) => perSecond(w.results.senders));
  const nodePerK = median(
    windows.map((w) => perThousand((w.serverCpu * w.elapsedMs) / 100, acks(w))),
  );
  const rows: Row[] = [
    {
      scenario: `scale-out append (${setup.label})`,
      target: "parley",
      unit: "acks/s",
      higherIsBetter: true,
      value: median(runs),
      runs,
      serverCpu: median(windows.map((w) => w.serverCpu)),
      loadCpu: median(windows.map((w) => w.loadCpu)),
      machineCpu: median(windows.map((w) => w.machineCpu)),
      errors: windows.reduce((n, w) => n + errorCount(w.results.senders), 0),
      note: `${ctx.sizes.append.senders} senders, 1 node; node ${nodePerK.toFixed(0)} CPU ms per 1,000 msgs; all ${checked?.acknowledged ?? 0} acknowledged found in the store (${checked?.stored ?? 0} stored)`,
    },
  ];
  if (setup.engine === "redis") {
    const perK = windows.map((w) => perThousand(w.otherCpuMs.redis ?? 0, acks(w)));
    rows.push({
      scenario: `scale-out append redis-server CPU (${setup.label})`,
      target: "parley",
      unit: "CPU ms/1k msgs",
      higherIsBetter: false,
      value: median(perK),
      runs: perK,
      serverCpu: median(windows.map((w) => ((w.otherCpuMs.redis ?? 0) / w.elapsedMs) * 100)),
      note: "redis-server's CPU per 1,000 acknowledged Sends; server CPU = redis-server",
    });
  }
  return rows;
}
