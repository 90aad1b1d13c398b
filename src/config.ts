import { Command, InvalidArgumentError, Option } from "commander";
import type { AuthConfig } from "./identity/auth-config.js";
import { addAuthOptions, authConfigFrom } from "./identity/auth-options.js";
import { DEFAULT_GRACE_MS, HARD_CAP_FACTOR } from "./rooms/subscription.js";
import {
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_RESETS_PER_ADDRESS,
  LISTENER_DEFAULTS,
} from "./server/listener/defaults.js";
import type { ListenerLimits } from "./server/listener/types.js";
import { DEFAULT_WEB_DIR } from "./server/web/default-web-dir.js";
import { WS_DEFAULTS, WS_MIN_FRAME_BYTES, type WsLimits } from "./server/websocket/ws-defaults.js";
import { DEFAULT_STORE } from "./store/default-store.js";

/**
 * Everything the server is configured with. The listener limits
 * (ListenerLimits) come from their flags; `npm start` always sets them, and
 * one left undefined takes LISTENER_DEFAULTS.
 */
export interface Config extends ListenerLimits {
  port: number;
  host: string | undefined;
  store: string;
  retention: number;
  heartbeatMs: number;
  queueEvents: number;
  queueBytes: number;
  /** How long a subscriber may stay over --queue-events / --queue-bytes (ms); DEFAULT_GRACE_MS when undefined. */
  slowGraceMs?: number | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  logLevel: string;
  shutdownMs: number;
  /** Origins allowed to call RPCs and the SSE endpoint from a browser ("*": any); none by default. */
  corsOrigins: string[];
  /** The built web app served at `/`. */
  webDir: string;
  /** The WebSocket endpoint's limits; undefined takes WS_DEFAULTS. */
  ws?: Partial<WsLimits> | undefined;
  /** Identity: how tokens are checked, per-user limits. Undefined: no checks (in-process tests). */
  auth?: AuthConfig | undefined;
  /** Port of the Prometheus endpoint (GET /metrics, its own listener); 0 or undefined: off. */
  metricsPort?: number | undefined;
  /** Interface the metrics listener binds; DEFAULT_METRICS_HOST when undefined. */
  metricsHost?: string | undefined;
}

/** The metrics listener binds loopback unless told otherwise: a scraper on the same host (or a sidecar) reads it, the network does not. */
export const DEFAULT_METRICS_HOST = "127.0.0.1";

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/**
 * Collect --cors-origin values: each flag adds one or more comma-separated
 * origins (the env variable gives them all at once). Each must be exactly an
 * origin as browsers send it (scheme://host[:port], no path), or "*".
 */
function origins(value: string, previous: string[] | undefined): string[] {
  const out = [...(previous ?? [])];
  for (const raw of value.split(",")) {
    const origin = raw.trim();
    if (origin === "") continue;
    if (origin !== "*" && !isOrigin(origin)) {
      throw new InvalidArgumentError(
        `--cors-origin ${JSON.stringify(origin)} is not an origin: give scheme://host[:port] with no path or trailing slash (as in https://chat.example.com), or *`,
      );
    }
    out.push(origin);
  }
  return out;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value;
  } catch {
    return false;
  }
}

/** The server's flags (each with its environment variable); `parley --help` prints them. */
export function serverCommand(name = "parley"): Command {
  return addAuthOptions(serverOptions(name));
}

function serverOptions(name: string): Command {
  return new Command(name)
    .description("Parley: schema-first streaming chat rooms over Connect, gRPC and gRPC-Web")
    .addOption(
      new Option("--port <n>", "port for every protocol")
        .env("PORT")
        .default(8080)
        .argParser(integer("--port", 0, 65535)),
    )
    .addOption(new Option("--host <addr>", "interface to bind (default: all)").env("PARLEY_HOST"))
    .addOption(
      new Option(
        "--store <spec>",
        "message store: sqlite:PATH, memory:, redis://HOST:PORT[/DB] or redis-cluster://HOST:PORT,…",
      )
        .env("PARLEY_STORE")
        .default(DEFAULT_STORE),
    )
    .addOption(
      new Option("--retention <n>", "messages kept per room")
        .env("PARLEY_RETENTION")
        .default(10_000)
        .argParser(integer("--retention", 1, 100_000_000)),
    )
    .addOption(
      new Option("--heartbeat-ms <ms>", "heartbeat after this long idle")
        .env("PARLEY_HEARTBEAT_MS")
        .default(15_000)
        .argParser(integer("--heartbeat-ms", 20, 3_600_000)),
    )
    .addOption(
      new Option(
        "--queue-events <n>",
        "events a subscriber may leave unread for longer than --slow-grace-ms before it is cut off",
      )
        .env("PARLEY_QUEUE_EVENTS")
        .default(1000)
        .argParser(integer("--queue-events", 1, 1_000_000)),
    )
    .addOption(
      new Option(
        "--queue-bytes <n>",
        `bytes a subscriber may leave unread for longer than --slow-grace-ms before it is cut off; ${HARD_CAP_FACTOR} times this cuts it off at once`,
      )
        .env("PARLEY_QUEUE_BYTES")
        .default(1024 * 1024)
        .argParser(integer("--queue-bytes", 1024, 1024 * 1024 * 1024)),
    )
    .addOption(
      new Option(
        "--slow-grace-ms <ms>",
        "how long a subscriber may stay over --queue-events or --queue-bytes (a burst it drains in time is no fault)",
      )
        .env("PARLEY_SLOW_GRACE_MS")
        .default(DEFAULT_GRACE_MS)
        .argParser(integer("--slow-grace-ms", 10, 600_000)),
    )
    .addOption(
      new Option("--tls-cert <file>", "PEM certificate: serve TLS (h2 + http/1.1)").env(
        "PARLEY_TLS_CERT",
      ),
    )
    .addOption(
      new Option("--tls-key <file>", "PEM private key for --tls-cert").env("PARLEY_TLS_KEY"),
    )
    .addOption(
      new Option("--log-level <level>", "log level")
        .env("PARLEY_LOG_LEVEL")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    )
    .addOption(
      new Option("--shutdown-ms <ms>", "on SIGINT/SIGTERM, exit within this long")
        .env("PARLEY_SHUTDOWN_MS")
        .default(5000)
        .argParser(integer("--shutdown-ms", 100, 600_000)),
    )
    .addOption(
      new Option(
        "--cors-origin <origin>",
        "let pages from this origin call every RPC and the SSE endpoint (repeatable; * for any); env: comma-separated",
      )
        .env("PARLEY_CORS_ORIGINS")
        .argParser(origins),
    )
    .addOption(
      new Option(
        "--sniff-timeout-ms <ms>",
        "close a new connection that has not shown its protocol (TLS handshake, HTTP/2 preface or HTTP/1.1 request line) within this long",
      )
        .env("PARLEY_SNIFF_TIMEOUT_MS")
        .default(LISTENER_DEFAULTS.sniffTimeoutMs)
        .argParser(integer("--sniff-timeout-ms", 100, 600_000)),
    )
    .addOption(
      new Option(
        "--headers-timeout-ms <ms>",
        "HTTP/1.1: answer 408 and close when a request's headers are not all in within this long",
      )
        .env("PARLEY_HEADERS_TIMEOUT_MS")
        .default(LISTENER_DEFAULTS.headersTimeoutMs)
        .argParser(integer("--headers-timeout-ms", 100, 3_600_000)),
    )
    .addOption(
      new Option(
        "--request-timeout-ms <ms>",
        "HTTP/1.1: answer 408 and close when a whole request (headers and body) is not in within this long",
      )
        .env("PARLEY_REQUEST_TIMEOUT_MS")
        .default(LISTENER_DEFAULTS.requestTimeoutMs)
        .argParser(integer("--request-timeout-ms", 100, 86_400_000)),
    )
    .addOption(
      new Option(
        "--request-idle-ms <ms>",
        "end a request or stream that moves no byte either way for this long (a body that never comes); live streams stay busy with heartbeats, so it must exceed --heartbeat-ms",
      )
        .env("PARLEY_REQUEST_IDLE_MS")
        .default(LISTENER_DEFAULTS.requestIdleMs)
        .argParser(integer("--request-idle-ms", 100, 86_400_000)),
    )
    .addOption(
      new Option(
        "--idle-connection-ms <ms>",
        "HTTP/2: close (GOAWAY) a connection that has had no open stream for this long",
      )
        .env("PARLEY_IDLE_CONNECTION_MS")
        .default(LISTENER_DEFAULTS.idleConnectionMs)
        .argParser(integer("--idle-connection-ms", 100, 86_400_000)),
    )
    .addOption(
      new Option(
        "--max-streams-per-connection <n>",
        "HTTP/2: concurrent streams one connection may open (advertised in SETTINGS; clients queue beyond it, and one that ignores it loses its connection)",
      )
        .env("PARLEY_MAX_STREAMS_PER_CONNECTION")
        .default(LISTENER_DEFAULTS.maxStreamsPerConnection)
        .argParser(integer("--max-streams-per-connection", 1, 1_000_000)),
    )
    .addOption(
      new Option(
        "--max-connections <n>",
        "open connections in all; one more is answered 503 / GOAWAY and closed",
      )
        .env("PARLEY_MAX_CONNECTIONS")
        .default(LISTENER_DEFAULTS.maxConnections)
        .argParser(integer("--max-connections", 1, 10_000_000)),
    )
    .addOption(
      new Option(
        "--max-connections-per-address <n>",
        "open connections from one client address; one more is answered 429 / GOAWAY and closed",
      )
        .env("PARLEY_MAX_CONNECTIONS_PER_ADDRESS")
        .default(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS)
        .argParser(integer("--max-connections-per-address", 1, 10_000_000)),
    )
    .addOption(
      new Option(
        "--max-resets-per-address <n>",
        "HTTP/2 streams one client address may reset per 10 s, over all its connections; past it GOAWAY and 10 s of refusals (0: no limit)",
      )
        .env("PARLEY_MAX_RESETS_PER_ADDRESS")
        .default(DEFAULT_MAX_RESETS_PER_ADDRESS)
        .argParser(integer("--max-resets-per-address", 0, 10_000_000)),
    )
    .addOption(
      new Option(
        "--ws-max-calls <n>",
        "WebSocket: open calls on one socket; one more is refused RESOURCE_EXHAUSTED",
      )
        .env("PARLEY_WS_MAX_CALLS")
        .default(WS_DEFAULTS.maxCallsPerSocket)
        .argParser(integer("--ws-max-calls", 1, 1_000_000)),
    )
    .addOption(
      new Option(
        "--ws-max-sockets-per-address <n>",
        "WebSocket: open sockets from one client address; one more upgrade is answered 429",
      )
        .env("PARLEY_WS_MAX_SOCKETS_PER_ADDRESS")
        .default(WS_DEFAULTS.maxSocketsPerAddress)
        .argParser(integer("--ws-max-sockets-per-address", 1, 10_000_000)),
    )
    .addOption(
      new Option(
        "--ws-max-frame-bytes <n>",
        `WebSocket: the largest frame a client may send (${WS_MIN_FRAME_BYTES} to 64 MiB); a larger one closes its socket (1009)`,
      )
        .env("PARLEY_WS_MAX_FRAME_BYTES")
        .default(WS_DEFAULTS.maxFrameBytes)
        .argParser(integer("--ws-max-frame-bytes", WS_MIN_FRAME_BYTES, 64 * 1024 * 1024)),
    )
    .addOption(
      new Option(
        "--ws-max-buffer-bytes <n>",
        "WebSocket: bytes one socket may have waiting to be sent (64 KiB to 1 GiB); more closes it (1008): its client does not read",
      )
        .env("PARLEY_WS_MAX_BUFFER_BYTES")
        .default(WS_DEFAULTS.maxBufferBytes)
        .argParser(integer("--ws-max-buffer-bytes", 64 * 1024, 1024 * 1024 * 1024)),
    )
    .addOption(
      new Option(
        "--metrics-port <n>",
        "serve Prometheus metrics at GET /metrics on this port, a listener apart from --port (0: off)",
      )
        .env("PARLEY_METRICS_PORT")
        .default(0)
        .argParser(integer("--metrics-port", 0, 65535)),
    )
    .addOption(
      new Option("--metrics-host <addr>", "interface the metrics listener binds")
        .env("PARLEY_METRICS_HOST")
        .default(DEFAULT_METRICS_HOST),
    )
    .addOption(
      new Option("--web-dir <dir>", "the built web app, served at /")
        .env("PARLEY_WEB_DIR")
        .default(DEFAULT_WEB_DIR, "dist/web of this package"),
    );
}

/** Read a Config from a parsed command; throws on a half-given TLS pair. */
export function configFrom(cmd: Command): Config {
  const o = cmd.opts();
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) {
    cmd.error("error: --tls-cert and --tls-key go together: give both or neither");
  }
  if (o.requestIdleMs <= o.heartbeatMs) {
    cmd.error(
      `error: --request-idle-ms (${o.requestIdleMs}) must be longer than --heartbeat-ms (${o.heartbeatMs}): streams that wait for messages stay alive by their heartbeats`,
    );
  }
  if (o.headersTimeoutMs > o.requestTimeoutMs) {
    cmd.error(
      `error: --headers-timeout-ms (${o.headersTimeoutMs}) must not be longer than --request-timeout-ms (${o.requestTimeoutMs})`,
    );
  }
  if (o.metricsPort !== 0 && o.metricsPort === o.port) {
    cmd.error(
      `error: --metrics-port (${o.metricsPort}) must differ from --port: metrics are served on a listener of their own, apart from the public port`,
    );
  }
  let auth: AuthConfig;
  try {
    auth = authConfigFrom(o);
  } catch (error) {
    cmd.error(`error: ${(error as Error).message}`);
  }
  // Guest tokens signed with a random secret of each process would be
  // refused by every other node sharing the Redis store.
  if (auth.mode === "guest" && auth.secretFile === undefined && /^redis/.test(o.store)) {
    cmd.error(
      "error: --auth guest on a Redis store needs --auth-secret-file: every node signs and verifies guest tokens with it, so give each node the same file (at least 32 bytes), or use --auth jwt",
    );
  }
  return {
    port: o.port,
    host: o.host,
    store: o.store,
    retention: o.retention,
    heartbeatMs: o.heartbeatMs,
    queueEvents: o.queueEvents,
    queueBytes: o.queueBytes,
    slowGraceMs: o.slowGraceMs,
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    logLevel: o.logLevel,
    shutdownMs: o.shutdownMs,
    corsOrigins: o.corsOrigin ?? [],
    webDir: o.webDir,
    sniffTimeoutMs: o.sniffTimeoutMs,
    headersTimeoutMs: o.headersTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    requestIdleMs: o.requestIdleMs,
    idleConnectionMs: o.idleConnectionMs,
    maxStreamsPerConnection: o.maxStreamsPerConnection,
    maxConnections: o.maxConnections,
    maxConnectionsPerAddress: o.maxConnectionsPerAddress,
    maxResetsPerAddress: o.maxResetsPerAddress,
    ws: {
      maxCallsPerSocket: o.wsMaxCalls,
      maxSocketsPerAddress: o.wsMaxSocketsPerAddress,
      maxFrameBytes: o.wsMaxFrameBytes,
      maxBufferBytes: o.wsMaxBufferBytes,
    },
    auth,
    metricsPort: o.metricsPort,
    metricsHost: o.metricsHost,
  };
}
