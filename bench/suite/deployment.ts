import { join } from "node:path";
import { type BenchRedis, startBenchRedis } from "./bench-redis.js";
import type { SuiteContext } from "./context.js";
import { startTarget, type Target } from "./targets.js";

/** One way of running Parley for the scale-out rows. */
export interface Setup {
  /** Names the rows, e.g. "2 nodes, Redis". */
  label: string;
  engine: "sqlite" | "memory" | "redis";
  nodes: number;
  /** Redis's AOF fsync policy (Redis setups only). */
  appendfsync?: "always" | "everysec";
}

/** Parley nodes on one store, started for one measured window. */
export interface Deployment {
  readonly nodes: readonly Target[];
  /** The redis-server of a Redis setup. */
  readonly redis: BenchRedis | undefined;
  /** The file of a SQLite setup (one node). */
  readonly sqlitePath: string | undefined;
  /** Processes whose CPU the window measures besides the first node: name -> pid. */
  readonly others: Record<string, number>;
  /** Stop the nodes, then Redis (so nothing is cut off mid-call). */
  stop(): Promise<void>;
}

let files = 0;

/**
 * Start a setup afresh: a new SQLite file, or a new redis-server (its own
 * port and folder) shared by every node, so no window inherits a store
 * another one grew.
 */
export async function deploy(ctx: SuiteContext, setup: Setup): Promise<Deployment> {
  // SQLite and memory are one process's store: two nodes on them would split every room.
  if (setup.engine !== "redis" && setup.nodes > 1)
    throw new Error(`${setup.label}: only Redis is shared by several nodes`);
  const redis =
    setup.engine === "redis"
      ? await startBenchRedis(ctx.tmpDir, setup.appendfsync ?? "always")
      : undefined;
  const sqlitePath =
    setup.engine === "sqlite" ? join(ctx.tmpDir, `scale-${++files}.db`) : undefined;
  const nodes: Target[] = [];
  const stop = async () => {
    for (const node of nodes) await node.stop();
    await redis?.stop();
  };
  try {
    for (let n = 0; n < setup.nodes; n++) {
      const store = sqlitePath ? `sqlite:${sqlitePath}` : redis ? redis.url : "memory:";
      nodes.push(await startTarget("parley", { store }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const others: Record<string, number> = {};
  nodes.slice(1).forEach((node, i) => {
    others[`node${i + 2}`] = node.pid;
  });
  if (redis) others.redis = redis.pid;
  return { nodes, redis, sqlitePath, others, stop };
}

/** CPU milliseconds per 1,000 messages. */
export function perThousand(cpuMs: number, messages: number): number {
  return messages > 0 ? (cpuMs / messages) * 1000 : Number.NaN;
}
