import type { SuiteContext } from "../suite/context.js";
import { h2load, h2loadMissing, h2loadRow, PROTOCOLS, type Run } from "../suite/h2load.js";
import type { Row } from "../suite/row.js";
import { startTarget } from "../suite/targets.js";

/**
 * Unary Send, the call every person makes, over each protocol a client may
 * use (gRPC, Connect binary, Connect JSON, gRPC-Web), all on h2c, against
 * grpc-js's unary Send as the baseline. The load generator is h2load
 * (Debian's nghttp2-client): its requests and its clock are nobody's code
 * here. Parley runs on its memory store, as grpc-js keeps messages in
 * memory, so the figure is the call path's.
 *
 * h2load counts HTTP statuses, and gRPC sends its errors with status 200 in
 * trailers: so every run uses a fresh room, and afterwards the room's
 * last_seq (History) must be at least what h2load counted as succeeded.
 * Whatever is missing counts as errors.
 */
export async function unarySend(ctx: SuiteContext): Promise<Row[]> {
  const targets = ctx.targets.filter((t) => t === "parley" || t === "grpc-js");
  if (targets.length === 0) return [];
  const missing = h2loadMissing();
  if (missing !== undefined) {
    ctx.log(`SKIPPED unary-send: ${missing}`);
    return [];
  }
  const rows: Row[] = [];
  let baseline: Run[] | undefined;
  for (const name of targets) {
    const target = await startTarget(name, { store: "memory:" });
    try {
      for (const protocol of name === "grpc-js" ? PROTOCOLS.slice(0, 1) : PROTOCOLS) {
        const runs: Run[] = [];
        for (let r = 0; r < ctx.sizes.runs; r++) {
          // Warm the path up (JIT, connections' buffers) on a room of its own.
          await h2load(ctx, target, protocol, `warm-${protocol.name}-${r}`, SHAPE, {
            requests: 2000,
          });
          const run = await h2load(ctx, target, protocol, `unary-${protocol.name}-${r}`, SHAPE, {
            seconds: ctx.sizes.measureMs / 1000,
          });
          ctx.log(
            `unary Send ${protocol.label} ${name} run ${r + 1}: ${run.rate.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(2)} ms, server ${run.serverCpu.toFixed(0)}% h2load ${run.loadCpu.toFixed(0)}%, ${run.errors} errors`,
          );
          runs.push(run);
        }
        if (name === "grpc-js") baseline = runs;
        else rows.push(rowOf(`unary Send, ${protocol.label}`, "parley", runs));
      }
    } finally {
      await target.stop();
    }
  }
  if (baseline !== undefined) {
    // grpc-js speaks gRPC only: its one figure is the baseline of every protocol's row.
    for (const protocol of PROTOCOLS) {
      rows.push({
        ...rowOf(`unary Send, ${protocol.label}`, "grpc-js", baseline),
        note: `h2load -c ${SHAPE.clients} -m ${SHAPE.streams}; grpc-js over gRPC`,
      });
    }
  }
  return rows;
}

/** h2load's shape of the load: the issue's `-c 8 -m 32`. */
const SHAPE = { clients: 8, streams: 32 };

function rowOf(scenario: string, target: "parley" | "grpc-js", runs: Run[]): Row {
  return h2loadRow(
    scenario,
    target,
    "calls/s",
    runs,
    `h2load -c ${SHAPE.clients} -m ${SHAPE.streams}`,
  );
}
