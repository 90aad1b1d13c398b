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

/**
 * The server's --max-resets-per-address default, per 10 s: far beyond what
 * a client that cancels calls as people do resets (a page that closes its
 * streams closes them with the connection), and below what one rapid-reset
 * connection sends before nghttp2's own per-connection limit ends it.
 */
export const DEFAULT_MAX_RESETS_PER_ADDRESS = 1000;
