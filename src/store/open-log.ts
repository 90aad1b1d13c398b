import { measureStore } from "../metrics/store-metrics.js";
import { MemoryLog } from "./memory-log.js";
import type { LogOptions, MessageLog } from "./message-log.js";
import { RedisLog } from "./redis-log.js";
import { parseRedisTarget } from "./redis-target.js";
import { SqliteLog } from "./sqlite-log.js";

export { DEFAULT_STORE } from "./default-store.js";

/**
 * Open the store a `--store` value names: `sqlite:PATH`, `memory:`,
 * `redis://host:port[/db]` or `redis-cluster://host:port,...`.
 * Throws an Error naming the accepted forms for anything else. Its appends
 * are measured by engine (src/metrics/store-metrics.ts).
 */
export function openLog(spec: string, options: LogOptions): MessageLog {
  if (spec === "memory:" || spec === "memory")
    return measureStore(new MemoryLog(options), "memory");
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (path === "")
      throw new Error(`--store ${spec}: sqlite needs a file path, as in sqlite:./data/parley.db`);
    return measureStore(new SqliteLog({ ...options, path }), "sqlite");
  }
  if (spec.startsWith("redis://") || spec.startsWith("redis-cluster://")) {
    const target = parseRedisTarget(spec);
    return measureStore(
      new RedisLog({ ...options, target }),
      target.kind === "cluster" ? "redis-cluster" : "redis",
    );
  }
  throw new Error(
    `--store ${JSON.stringify(spec)}: expected sqlite:PATH, memory:, redis://host:port[/db] or redis-cluster://host:port,...`,
  );
}
