import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { LIMITS } from "../chat/limits.js";
import { roomEvents } from "../chat/room-events.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { RoomHub } from "../rooms/room-hub.js";
import type { TypingOptions } from "../rooms/typing.js";
import type { MessageLog } from "../store/message-log.js";
import { openLog } from "../store/open-log.js";
import { withCors } from "./cors.js";
import { fallbackRouter } from "./fallback-router.js";
import { directGrpc } from "./grpc-direct/direct-grpc.js";
import { withSpecGrpcMessage } from "./grpc-message.js";
import { HEALTHZ_PATH, healthzFallback } from "./health/healthz.js";
import { listenOnePort } from "./one-port.js";
import { withWritesReleasedOnClose } from "./release-writes.js";
import { routes } from "./routes.js";
import { sseRoute } from "./sse/sse-gateway.js";
import { webAppFiles } from "./web/static-files.js";

/** A running Parley server. */
export interface ParleyServer {
  /** The bound port. */
  readonly port: number;
  /** Base URL clients use, e.g. http://localhost:8080. */
  readonly url: string;
  /** The store, for in-process tests and tools. */
  readonly log: MessageLog;
  /**
   * Shut down gracefully: stop accepting, end open streams with UNAVAILABLE
   * (clients resume), let in-flight calls finish, close the store. Connections
   * still open at the deadline are destroyed.
   */
  stop(): Promise<void>;
}

/** Settings the contract fixes, adjustable only by in-process tests. */
export interface ServerTuning {
  /** Typing event pacing (the contract's 1 s and 5 s by default). */
  typing?: TypingOptions;
}

/** Open the store, mount the routes and listen. */
export async function startParley(
  config: Config,
  logger: Logger,
  tuning: ServerTuning = {},
): Promise<ParleyServer> {
  const log = openLog(config.store, { retention: config.retention });
  const hub = new RoomHub(log, {
    heartbeatMs: config.heartbeatMs,
    maxEvents: config.queueEvents,
    maxBytes: config.queueBytes,
    ...tuning,
  });
  // Calls and streams wait on it through watchShutdown (one listener in all).
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes: routes(hub, log, shutdown.signal),
    // Paths no RPC matches: plain HTTP health, the SSE gateway, the web app.
    fallback: fallbackRouter([
      { matches: (path) => path === HEALTHZ_PATH, handle: healthzFallback(shutdown.signal) },
      sseRoute(roomEvents(hub), { shutdownSignal: shutdown.signal }),
      { matches: () => true, handle: webAppFiles(config.webDir) },
    ]),
    readMaxBytes: LIMITS.messageMaxBytes,
    // Responses are never compressed (compressed requests are still
    // accepted): a batch of room events is encoded once for every subscriber,
    // and gzip per subscriber would redo that work n times over, on the hot
    // path. It also keeps each subscriber's queue bound honest: a batch's
    // bytes are the bytes that wait on the connection.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    // No shutdownSignal here: routes() links each handler to shutdown for
    // less (shutdown-router.ts).
  });
  const edge = withCors(config.corsOrigins, withSpecGrpcMessage(handler));
  const server = await listenOnePort(withWritesReleasedOnClose(edge), {
    port: config.port,
    host: config.host,
    tls:
      config.tlsCert && config.tlsKey
        ? { certFile: config.tlsCert, keyFile: config.tlsKey }
        : undefined,
    pingIntervalMs: config.heartbeatMs,
    takeHttp2Stream: directGrpc(hub, shutdown.signal),
  });
  const url = `${server.scheme}://${urlHost(config.host)}:${server.port}`;
  logger.info({ url, store: config.store, retention: config.retention }, "parley listening");

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const deadline = Date.now() + config.shutdownMs - 250;
    server.stopAccepting();
    shutdown.abort(
      new ConnectError("server is shutting down; resume from your last seq", Code.Unavailable),
    );
    server.drain();
    while (server.openConnections > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (server.openConnections > 0) {
      logger.warn(
        { connections: server.openConnections },
        "closing connections still open at the shutdown deadline",
      );
      server.destroyAll();
    }
    hub.close();
    await log.close();
    logger.info("parley stopped");
  };
  return {
    port: server.port,
    url,
    log,
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

/** The host part of the URL clients should use for a bound interface. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === "" || host === "::" || host === "0.0.0.0") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
