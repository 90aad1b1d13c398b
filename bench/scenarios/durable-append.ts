import { join } from "node:path";
import Database from "better-sqlite3";
import { startAgent } from "../suite/agents.js";
import { AGENT_MAX_SECONDS, type SuiteContext } from "../suite/context.js";
import { h2load, h2loadMissing, h2loadRow, PROTOCOLS, type Run } from "../suite/h2load.js";
import { errorCount, measureWindow, median, perSecond } from "../suite/measure.js";
import type { Row } from "../suite/row.js";
import { startTarget } from "../suite/targets.js";

let files = 0;

/**
 * Check the store after the server stopped: per room, seqs 1..n with no gap,
 * and at least as many messages as were acknowledged. Throws otherwise.
 */
export function verifyDurable(path: string, acknowledged: number): number {
  const db = new Database(path, { readonly: true });
  try {
    const rooms = db
      .prepare<[], { n: number; top: number }>(
        "SELECT COUNT(*) AS n, MAX(seq) AS top FROM messages GROUP BY room",
      )
      .all();
    const stored = rooms.reduce((sum, r) => sum + r.n, 0);
    if (rooms.some((r) => r.n !== r.top))
      throw new Error(`durable append: a room's seqs have a gap`);
    if (stored < acknowledged)
      throw new Error(`durable append: ${acknowledged} acknowledged but ${stored} stored`);
    return stored;
  } finally {
    db.close();
  }
}

/**
 * Durable append: concurrent unary Sends on Parley, each sender awaiting
 * its acknowledgement, on SQLite (fresh file per run; afterwards every
 * acknowledged message is checked to be in the file) and on memory. Two
 * meters: the suite's own gRPC agent (Node, spreading the senders over
 * rooms), and h2load with the same number of Sends in flight (one room,
 * as h2load sends one body), whose CPU cost leaves the server more of the
 * two shared cores.
 */
export async function durableAppend(ctx: SuiteContext): Promise<Row[]> {
  if (!ctx.targets.includes("parley")) return [];
  const { sizes } = ctx;
  const s = sizes.append;
  const rows: Row[] = [];
  for (const engine of ["sqlite", "memory"] as const) {
    const windows = [];
    let verified = 0;
    let acknowledged = 0;
    for (let r = 0; r < sizes.runs; r++) {
      const path = join(ctx.tmpDir, `append-${++files}.db`);
      const target = await startTarget("parley", {
        store: engine === "sqlite" ? `sqlite:${path}` : "memory:",
      });
      try {
        const senders = await startAgent(
          {
            kind: "send",
            wire: "grpc",
            url: target.url,
            senders: s.senders,
            connections: s.connections,
            rooms: Array.from({ length: s.rooms }, (_, i) => `append-${i}`),
            textBytes: sizes.textBytes,
          },
          AGENT_MAX_SECONDS,
        );
        const w = await measureWindow(target.pid, { senders }, sizes.warmupMs, sizes.measureMs);
        const total = await senders.close();
        windows.push(w);
        ctx.log(
          `durable append ${engine} run ${r + 1}: ${perSecond(w.results.senders).toFixed(0)} acks/s, server ${w.serverCpu.toFixed(0)}% load ${w.loadCpu.toFixed(0)}% machine ${w.machineCpu.toFixed(0)}%`,
        );
        await target.stop();
        if (engine === "sqlite") {
          verified += verifyDurable(path, total);
          acknowledged += total;
        }
      } finally {
        await target.stop();
      }
    }
    const rates = windows.map((w) => perSecond(w.results.senders));
    rows.push({
      scenario: `durable append (${engine})`,
      target: "parley",
      unit: "acks/s",
      higherIsBetter: true,
      value: median(rates),
      runs: rates,
      serverCpu: median(windows.map((w) => w.serverCpu)),
      loadCpu: median(windows.map((w) => w.loadCpu)),
      machineCpu: median(windows.map((w) => w.machineCpu)),
      errors: windows.reduce((n, w) => n + errorCount(w.results.senders), 0),
      note:
        engine === "sqlite"
          ? `${s.senders} senders; all ${acknowledged} acknowledged found in the file (${verified} stored)`
          : `${s.senders} senders; memory store`,
    });
    const metered = await h2loadAppend(ctx, engine);
    if (metered !== undefined) rows.push(metered);
  }
  return rows;
}

/**
 * The same load from h2load: `-c connections -m senders/connections`, so
 * as many Sends are in flight as there are senders, each connection's next
 * one starting when an answer comes. On SQLite every acknowledged message is
 * then looked for in the file. Undefined (and said) without h2load.
 */
async function h2loadAppend(
  ctx: SuiteContext,
  engine: "sqlite" | "memory",
): Promise<Row | undefined> {
  const missing = h2loadMissing();
  if (missing !== undefined) {
    ctx.log(`SKIPPED durable append (${engine}) from h2load: ${missing}`);
    return undefined;
  }
  const s = ctx.sizes.append;
  const shape = { clients: s.connections, streams: Math.ceil(s.senders / s.connections) };
  const grpc = PROTOCOLS[0] as (typeof PROTOCOLS)[number];
  const runs: Run[] = [];
  let acknowledged = 0;
  let stored = 0;
  for (let r = 0; r < ctx.sizes.runs; r++) {
    const path = join(ctx.tmpDir, `append-${++files}.db`);
    const target = await startTarget("parley", {
      store: engine === "sqlite" ? `sqlite:${path}` : "memory:",
    });
    try {
      const warm = await h2load(ctx, target, grpc, `append-warm-${r}`, shape, {
        requests: 2000,
      });
      const run = await h2load(ctx, target, grpc, `append-h2load-${r}`, shape, {
        seconds: ctx.sizes.measureMs / 1000,
      });
      ctx.log(
        `durable append ${engine} from h2load run ${r + 1}: ${run.rate.toFixed(0)} acks/s, p99 ${run.p99Ms.toFixed(2)} ms, server ${run.serverCpu.toFixed(0)}% h2load ${run.loadCpu.toFixed(0)}%, ${run.errors} errors`,
      );
      runs.push(run);
      await target.stop();
      if (engine === "sqlite") {
        stored += verifyDurable(path, warm.succeeded + run.succeeded);
        acknowledged += warm.succeeded + run.succeeded;
      }
    } finally {
      await target.stop();
    }
  }
  const flight = `h2load -c ${shape.clients} -m ${shape.streams} (${shape.clients * shape.streams} in flight), one room`;
  return h2loadRow(
    `durable append (${engine}), h2load`,
    "parley",
    "acks/s",
    runs,
    engine === "sqlite"
      ? `${flight}; all ${acknowledged} acknowledged found in the file (${stored} stored)`
      : `${flight}; memory store`,
  );
}
