import { MemoryLog } from "./memory-log.js";
import type { LogOptions, MessageLog } from "./message-log.js";
import { RedisLog } from "./redis-log.js";
import { parseRedisTarget } from "./redis-target.js";
import { SqliteLog } from "./sqlite-log.js";

export { DEFAULT_STORE } from "./default-store.js";

/**
 * Open the store a `--store` value names: `sqlite:PATH`, `memory:`,
 * `redis://host:port[/db]` or `redis-cluster://host:port,...`.
 * Throws an Error naming the accepted forms for anything else.
 */
export function openLog(spec: string, options: LogOptions): MessageLog {
  if (spec === "memory:" || spec === "memory") return new MemoryLog(options);
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (path === "")
      throw new Error(`--store ${spec}: sqlite needs a file path, as in sqlite:./data/parley.db`);
    return new SqliteLog({ ...options, path });
  }
  if (spec.startsWith("redis://") || spec.startsWith("redis-cluster://")) {
    return new RedisLog({ ...options, target: parseRedisTarget(spec) });
  }
  throw new Error(
    `--store ${JSON.stringify(spec)}: expected sqlite:PATH, memory:, redis://host:port[/db] or redis-cluster://host:port,...`,
  );
}
