import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_WEB_DIR } from "./server/web/static-files.js";
import { DEFAULT_STORE } from "./store/open-log.js";

/** Everything the server is configured with. */
export interface Config {
  port: number;
  host: string | undefined;
  store: string;
  retention: number;
  heartbeatMs: number;
  queueEvents: number;
  queueBytes: number;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  logLevel: string;
  shutdownMs: number;
  /** Origins allowed to call RPCs and the SSE endpoint from a browser ("*": any); none by default. */
  corsOrigins: string[];
  /** The built web app served at `/`. */
  webDir: string;
}

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
      new Option("--store <spec>", "message store: sqlite:PATH or memory:")
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
      new Option("--queue-events <n>", "events a subscriber may have waiting before it is cut off")
        .env("PARLEY_QUEUE_EVENTS")
        .default(1000)
        .argParser(integer("--queue-events", 1, 1_000_000)),
    )
    .addOption(
      new Option("--queue-bytes <n>", "bytes a subscriber may have waiting before it is cut off")
        .env("PARLEY_QUEUE_BYTES")
        .default(1024 * 1024)
        .argParser(integer("--queue-bytes", 1024, 1024 * 1024 * 1024)),
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
  return {
    port: o.port,
    host: o.host,
    store: o.store,
    retention: o.retention,
    heartbeatMs: o.heartbeatMs,
    queueEvents: o.queueEvents,
    queueBytes: o.queueBytes,
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    logLevel: o.logLevel,
    shutdownMs: o.shutdownMs,
    corsOrigins: o.corsOrigin ?? [],
    webDir: o.webDir,
  };
}
