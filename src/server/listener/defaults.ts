/**
 * The listener's defaults, shared with the server's flags (config.ts) so that
 * a ListenOptions field left out and a flag left out mean the same thing.
 */
export const LISTENER_DEFAULTS = {
  sniffTimeoutMs: 10_000,
  /** Node's own default. */
  headersTimeoutMs: 60_000,
  /** Node's own default. */
  requestTimeoutMs: 300_000,
  /** Four default heartbeats (15 s): a live stream is never idle this long. */
  requestIdleMs: 60_000,
  idleConnectionMs: 120_000,
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (Node's default is 2^32-1). */
  maxStreamsPerConnection: 1000,
  /** Half the usual 20,000 open files: the process keeps room for its store and logs. */
  maxConnections: 10_000,
} as const;

/**
 * The server's --max-connections-per-address default. The listener alone
 * has no per-address cap (ListenOptions.maxConnectionsPerAddress undefined):
 * every client of a test or benchmark on one machine comes from one address.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1000;
