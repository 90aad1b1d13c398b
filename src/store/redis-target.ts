import { Cluster, Redis, type RedisOptions } from "ioredis";

/** Settings both kinds of target take. */
interface TargetSettings {
  password?: string;
  /**
   * How long a Parley process may miss heartbeats before the others take it
   * for dead and remove its room members (`?node_ttl_ms=`, default 15 s).
   */
  nodeTtlMs?: number;
}

/** A Redis server or cluster named by a `--store` value. */
export type RedisTarget =
  | ({ kind: "standalone"; host: string; port: number; db: number } & TargetSettings)
  | ({ kind: "cluster"; nodes: Array<{ host: string; port: number }> } & TargetSettings);

const FORMS =
  "redis://host:port[/db][?node_ttl_ms=N] or redis-cluster://host:port,host:port,...[?node_ttl_ms=N]";

/** Parse `redis://host:port[/db]` or `redis-cluster://host:port,...`; throws naming the accepted forms. */
export function parseRedisTarget(spec: string): RedisTarget {
  const m =
    /^(redis|redis-cluster):\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/?]+?)(?:\/(\d+))?\/?(?:\?(.*))?$/.exec(
      spec,
    );
  if (!m) throw new Error(`--store ${JSON.stringify(spec)}: expected ${FORMS}`);
  const [, scheme, password, hosts = "", db, query] = m;
  const nodes = hosts.split(",").map((h) => hostPort(spec, h));
  const auth = {
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...settings(spec, query),
  };
  if (scheme === "redis-cluster") {
    if (db !== undefined) throw new Error(`--store ${spec}: a cluster has only db 0`);
    return { kind: "cluster", nodes, ...auth };
  }
  const [node] = nodes;
  if (nodes.length !== 1 || !node)
    throw new Error(
      `--store ${spec}: redis:// takes one host:port; use redis-cluster:// for several`,
    );
  return { kind: "standalone", ...node, db: db === undefined ? 0 : Number(db), ...auth };
}

function settings(spec: string, query: string | undefined): TargetSettings {
  const out: TargetSettings = {};
  for (const [name, value] of new URLSearchParams(query ?? "")) {
    if (name !== "node_ttl_ms")
      throw new Error(
        `--store ${spec}: unknown setting ${JSON.stringify(name)} (known: node_ttl_ms)`,
      );
    const ms = Number(value);
    if (!Number.isInteger(ms) || ms < 300 || ms > 600_000)
      throw new Error(`--store ${spec}: node_ttl_ms must be an integer from 300 to 600000`);
    out.nodeTtlMs = ms;
  }
  return out;
}

function hostPort(spec: string, text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  const port = m?.[2] === undefined ? 6379 : Number(m[2]);
  if (!m?.[1] || port < 1 || port > 65535)
    throw new Error(`--store ${spec}: ${JSON.stringify(text)} is not host:port`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

/** The Redis address for messages, e.g. "127.0.0.1:6379" or the first cluster node and a count. */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === "standalone") return `redis ${target.host}:${target.port}/${target.db}`;
  const [first] = target.nodes;
  return `redis cluster ${first?.host}:${first?.port} (+${target.nodes.length - 1} more seed nodes)`;
}

/**
 * Connection settings shared by every client the store opens. A call fails
 * (UNAVAILABLE, via redis-errors.ts) instead of waiting when Redis is gone:
 * commands in flight when the connection drops are rejected, never resent
 * after a reconnect (a resent append could be stored twice), and commands
 * issued while disconnected fail at the next failed reconnect attempt.
 * Reconnecting never stops, so the store recovers by itself.
 */
const COMMON: RedisOptions = {
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  enableAutoPipelining: true,
  commandTimeout: 10_000,
  connectTimeout: 2_000,
};

/** Back off 50 ms, 100 ms … up to 1 s between reconnect attempts. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 5), 1000);
}

/**
 * A client for commands and scripts. `name` is the CLIENT SETNAME of its
 * connections, which lets an operator (and the tests) find them.
 */
export function connectStore(
  target: RedisTarget,
  name: string,
  extra: RedisOptions = {},
): Redis | Cluster {
  const options: RedisOptions = { ...COMMON, connectionName: name, ...extra };
  if (target.password) options.password = target.password;
  if (target.kind === "standalone") {
    return new Redis({
      ...options,
      host: target.host,
      port: target.port,
      db: target.db,
      retryStrategy: reconnectDelay,
    });
  }
  const { retryStrategy: _ignored, ...redisOptions } = options;
  return new Cluster(target.nodes, {
    redisOptions,
    clusterRetryStrategy: reconnectDelay,
    enableAutoPipelining: true,
    shardedSubscribers: true,
  });
}
