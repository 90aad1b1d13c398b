import { type Agent, startAgent } from "../suite/agents.js";
import { AGENT_MAX_SECONDS, type SuiteContext, startFor } from "../suite/context.js";
import { median } from "../suite/measure.js";
import { cpuMsOf, rssOf } from "../suite/proc-stats.js";
import type { Row } from "../suite/row.js";
import type { Target, TargetName } from "../suite/targets.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Idle subscriptions spread over rooms of 100 subscribers. */
const PER_ROOM = 100;

/**
 * Measure a growth step on one fresh server: RSS with the reference load
 * (`connections` with one idle stream each), then RSS after `grow` adds its
 * streams or connections; returns (after - before) / added, in KiB.
 */
async function kibPerAdded(
  ctx: SuiteContext,
  name: TargetName,
  grow: (
    target: Target,
    reference: Agent,
  ) => Promise<{ added: number; done: () => Promise<unknown> }>,
): Promise<{ kib: number; cpuMsPerThousand: number; errors: number }> {
  const s = ctx.sizes.idle;
  const target = await startFor(ctx, name);
  try {
    const reference = await startAgent(
      {
        kind: "idle",
        wire: target.wire,
        url: target.url,
        connections: s.connections,
        streamsPerConnection: 1,
        rooms: Math.ceil((s.connections * s.streamsPerConnection) / PER_ROOM),
        growBy: s.streamsPerConnection - 1,
      },
      AGENT_MAX_SECONDS,
    );
    try {
      await sleep(ctx.sizes.settleMs);
      const before = rssOf(target.pid);
      const cpuBefore = cpuMsOf(target.pid);
      const step = await grow(target, reference);
      // The server's CPU while the step opened its streams (each answered).
      const cpuMs = cpuMsOf(target.pid) - cpuBefore;
      await sleep(ctx.sizes.settleMs);
      const after = rssOf(target.pid);
      await step.done();
      const { errors } = await reference.stop();
      return {
        kib: (after - before) / step.added / 1024,
        cpuMsPerThousand: (cpuMs / step.added) * 1000,
        errors: Object.values(errors).reduce((a, b) => a + b, 0),
      };
    } finally {
      await reference.close();
    }
  } finally {
    await target.stop();
  }
}

/**
 * Idle scale: what an idle subscription costs the server in memory, as the
 * growth of its RSS on a warmed-up server. Per extra stream: `connections`
 * connections with one idle Subscribe stream each, then streamsPerConnection - 1
 * more on each of the same connections. Per extra connection: the same
 * reference, then enough connections with one stream each to reach
 * manyConnections. On parley-ws a stream is a Subscribe call on a socket
 * and a connection a socket with one such call; the raw ws baseline has no
 * calls within a socket, so it has only the second.
 */
export async function idleScale(ctx: SuiteContext): Promise<Row[]> {
  const s = ctx.sizes.idle;
  const rows: Row[] = [];
  // Beside Parley, the floor: what node:http2 alone costs for the same load.
  const floor: TargetName[] = ctx.targets.includes("parley") ? ["http2-floor"] : [];
  for (const name of [...ctx.targets, ...floor]) {
    const perStream: number[] = [];
    const openCpu: number[] = [];
    const perConnection: number[] = [];
    const perBareSocket: number[] = [];
    let errors = 0;
    for (let r = 0; r < ctx.sizes.runs; r++) {
      if (name !== "ws") {
        // The reference agent itself grows: more streams on its connections.
        const step = await kibPerAdded(ctx, name, async (_target, reference) => {
          await reference.startAndWait();
          return { added: s.connections * (s.streamsPerConnection - 1), done: async () => 0 };
        });
        perStream.push(step.kib);
        openCpu.push(step.cpuMsPerThousand);
        errors += step.errors;
      }
      const step = await kibPerAdded(ctx, name, moreConnections(s, 1));
      perConnection.push(step.kib);
      errors += step.errors;
      if (name === "parley-ws") {
        // A page's socket between calls: open, no call on it.
        const bare = await kibPerAdded(ctx, name, moreConnections(s, 0));
        perBareSocket.push(bare.kib);
        errors += bare.errors;
      }
      ctx.log(
        `idle ${name} run ${r + 1}: ${perStream.at(-1)?.toFixed(2) ?? "-"} KiB/stream, ${perConnection.at(-1)?.toFixed(2)} KiB/connection${perBareSocket.length > 0 ? `, ${perBareSocket.at(-1)?.toFixed(2)} KiB/socket with no call` : ""}`,
      );
    }
    if (perStream.length > 0) {
      rows.push({
        scenario: "idle stream",
        target: name,
        unit: "KiB/stream",
        higherIsBetter: false,
        value: median(perStream),
        runs: perStream,
        errors,
        note: `${s.connections * s.streamsPerConnection} streams over ${s.connections} connections`,
      });
      rows.push({
        scenario: "idle stream, opening",
        target: name,
        unit: "CPU ms/1k streams",
        higherIsBetter: false,
        value: median(openCpu),
        runs: openCpu,
        errors,
        note: `server CPU while the idle stream step opened its streams, rooms of ${PER_ROOM} (a subscriber's first answer lists the room's members)`,
      });
    }
    rows.push({
      scenario: "idle connection",
      target: name,
      unit: "KiB/connection",
      higherIsBetter: false,
      value: median(perConnection),
      runs: perConnection,
      errors,
      note: `${s.manyConnections} connections, 1 stream each`,
    });
    if (perBareSocket.length > 0) {
      rows.push({
        scenario: "idle socket, no call",
        target: name,
        unit: "KiB/connection",
        higherIsBetter: false,
        value: median(perBareSocket),
        runs: perBareSocket,
        errors,
        note: `${s.manyConnections} sockets, no call open (compare: ws idle connection)`,
      });
    }
  }
  return rows;
}

/** A growth step: enough more connections, `streams` idle streams each, to reach manyConnections. */
function moreConnections(s: SuiteContext["sizes"]["idle"], streams: number) {
  return async (target: Target) => {
    const added = s.manyConnections - s.connections;
    const more = await startAgent(
      {
        kind: "idle",
        wire: target.wire,
        url: target.url,
        connections: added,
        streamsPerConnection: streams,
        rooms: Math.ceil(added / PER_ROOM),
        growBy: 0,
      },
      AGENT_MAX_SECONDS,
    );
    return { added, done: () => more.close() };
  };
}
