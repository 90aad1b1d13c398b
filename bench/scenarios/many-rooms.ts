import { startAgent } from "../suite/agents.js";
import { AGENT_MAX_SECONDS, type SuiteContext, startFor } from "../suite/context.js";
import { errorCount, measureWindow, median, perSecond } from "../suite/measure.js";
import type { Row } from "../suite/row.js";

/**
 * Many rooms: rooms x perRoom subscribers over a pool of connections, one
 * publisher sending round-robin across the rooms with a window of Sends in
 * flight: deliveries per second.
 */
export async function manyRooms(ctx: SuiteContext): Promise<Row[]> {
  const { sizes } = ctx;
  const s = sizes.manyRooms;
  const rows: Row[] = [];
  // Issue 18 asks WebSocket rows of fan-out, echo and idle memory only; here
  // parley-ws would hold 10,000 sockets beside the other targets' 100 connections.
  for (const name of ctx.targets.filter((t) => t !== "parley-ws")) {
    const target = await startFor(ctx, name);
    try {
      const windows = [];
      for (let r = 0; r < sizes.runs; r++) {
        const rooms = Array.from({ length: s.rooms }, (_, i) => `many-${r}-${i}`);
        const [subscribers, publisher] = await Promise.all([
          startAgent(
            {
              kind: "subscribe",
              wire: target.wire,
              url: target.url,
              rooms,
              streams: s.rooms * s.perRoom,
              connections: s.connections,
              latency: false,
            },
            AGENT_MAX_SECONDS,
          ),
          startAgent(
            {
              kind: "publish",
              wire: target.wire,
              url: target.url,
              rooms,
              textBytes: sizes.textBytes,
              window: s.window,
              rate: null,
              maxLag: null,
            },
            AGENT_MAX_SECONDS,
          ),
        ]);
        try {
          const w = await measureWindow(
            target.pid,
            { subscribers, publisher },
            sizes.warmupMs,
            sizes.measureMs,
          );
          windows.push(w);
          ctx.log(
            `many-rooms ${name} run ${r + 1}: ${perSecond(w.results.subscribers).toFixed(0)} deliveries/s, server ${w.serverCpu.toFixed(0)}% load ${w.loadCpu.toFixed(0)}% machine ${w.machineCpu.toFixed(0)}%`,
          );
        } finally {
          await publisher.close();
          await subscribers.close();
        }
      }
      const deliveries = windows.map((w) => perSecond(w.results.subscribers));
      rows.push({
        scenario: "many rooms",
        target: name,
        unit: "deliveries/s",
        higherIsBetter: true,
        value: median(deliveries),
        runs: deliveries,
        serverCpu: median(windows.map((w) => w.serverCpu)),
        loadCpu: median(windows.map((w) => w.loadCpu)),
        machineCpu: median(windows.map((w) => w.machineCpu)),
        errors: windows.reduce((n, w) => n + errorCount(w.results.subscribers), 0),
        note: `${s.rooms} rooms x ${s.perRoom}`,
      });
    } finally {
      await target.stop();
    }
  }
  return rows;
}
