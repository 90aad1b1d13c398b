import { join } from "node:path";
import Database from "better-sqlite3";
import { startAgent } from "../suite/agents.js";
import { AGENT_MAX_SECONDS, type SuiteContext } from "../suite/context.js";
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
 * acknowledged message is checked to be in the file) and on memory.
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
  }
  return rows;
}
