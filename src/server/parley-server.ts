import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import type { CallPolicy } from "../calls/call-policy.js";
import type { MethodCore } from "../calls/method-core.js";
import { requestLog } from "../calls/request-log.js";
import { chatCores } from "../chat/chat-cores.js";
import { type Config, DEFAULT_METRICS_HOST } from "../config.js";
import { NO_AUTH } from "../identity/auth-config.js";
import { guestSecretHome } from "../identity/guest-secret.js";
import { openAuth } from "../identity/open-auth.js";
import { LIMITS } from "../limits.js";
import type { Logger } from "../logger.js";
import { callMetrics } from "../metrics/call-metrics.js";
import { listenMetrics, type MetricsServer } from "../metrics/metrics-server.js";
import { RoomHub } from "../rooms/room-hub.js";
import type { TypingOptions } from "../rooms/typing.js";
import type { MessageLog } from "../store/message-log.js";
import { openLog } from "../store/open-log.js";
import { decodeEchoRequest } from "../wire/echo-codec.js";
import { decodeSendRequest } from "../wire/send-codec.js";
import { connectEdge } from "./connect-path/connect-edge.js";
import { leanUnary } from "./connect-path/lean-unary.js";
import { withCors } from "./cors.js";
import { fallbackRouter } from "./fallback-router.js";
import { directGrpc } from "./grpc-direct/direct-grpc.js";
import { HEALTHZ_PATH, healthzFallback } from "./health/healthz.js";
import { servingState } from "./health/serving-state.js";
import { listenerLimits } from "./listener/index.js";
import { withNoSniff } from "./no-sniff.js";
import { listenOnePort } from "./one-port.js";
import { routes } from "./routes.js";
import { sseFeedRoute } from "./sse/sse-feed.js";
import { sseRoute } from "./sse/sse-gateway.js";
import { webAppFiles } from "./web/static-files.js";
import { WS_DEFAULTS, type WsLimits } from "./websocket/ws-defaults.js";
import { websocketEndpoint } from "./websocket/ws-endpoint.js";
import { withSpecGrpcMessage } from "./workarounds/grpc-message.js";
import { withWritesReleasedOnClose } from "./workarounds/release-writes.js";

/** A running Parley server. */
export interface ParleyServer {
  /** The bound port. */
  readonly port: number;
  /** Base URL clients use, e.g. http://localhost:8080. */
  readonly url: string;
  /** The store, for in-process tests and tools. */
  readonly log: MessageLog;
  /** Where Prometheus scrapes (http://127.0.0.1:PORT/metrics); undefined when --metrics-port is 0. */
  readonly metricsUrl: string | undefined;
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
  /** Policies every call passes after the request log (tests refuse calls with one). */
  policies?: readonly CallPolicy[];
  /** false: every call goes through connect-node, none through the direct gRPC path. */
  directGrpc?: boolean;
  /** false: Connect unary calls go through connect-node too, none through the lean path. */
  leanUnary?: boolean;
  /** The store to use instead of opening config.store (tests fix ids and times with it). */
  log?: MessageLog;
  /** The clock Echo reports arrival times by (tests fix it). */
  now?: () => number;
  /** New subscription member ids (tests fix them). */
  newMemberId?: () => string;
}

/**
 * The longest deadline a client may ask for (about 24.8 days): a timer
 * cannot wait longer, and Node fires a longer one at once, which would end
 * the call at its start. Longer is INVALID_ARGUMENT on both paths.
 */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The core of one method, from the service's table. */
function coreOf<K extends MethodCore["kind"]>(
  cores: readonly MethodCore[],
  method: DescMethod & { methodKind: K },
): Extract<MethodCore, { kind: K }> {
  const core = cores.find((c) => c.method === method);
  if (core === undefined || core.kind !== method.methodKind) {
    throw new Error(`no ${method.methodKind} core for ${method.name}`);
  }
  return core as Extract<MethodCore, { kind: K }>;
}

/** Open the store, mount the routes and listen. */
export async function startParley(
  config: Config,
  logger: Logger,
  tuning: ServerTuning = {},
): Promise<ParleyServer> {
  const log = tuning.log ?? openLog(config.store, { retention: config.retention });
  const hub = new RoomHub(log, {
    heartbeatMs: config.heartbeatMs,
    maxEvents: config.queueEvents,
    maxBytes: config.queueBytes,
    ...(config.slowGraceMs === undefined ? {} : { graceMs: config.slowGraceMs }),
    ...(tuning.typing === undefined ? {} : { typing: tuning.typing }),
    ...(tuning.newMemberId === undefined ? {} : { newMemberId: tuning.newMemberId }),
  });
  // Calls and streams wait on it through watchShutdown (one listener in all).
  const shutdown = new AbortController();
  const authConfig = config.auth ?? NO_AUTH;
  const auth = await openAuth(authConfig, {
    isLiveMember: (name) => hub.hasMember(name),
    guestNames: log.guestNames,
    people: log.people,
    secretHome: guestSecretHome(config.store),
    logger,
  }).catch(async (error: unknown) => {
    // Refused keys (a guest secret others may read): release the store too.
    hub.close();
    await log.close();
    throw error;
  });
  const cores = chatCores(hub, log, {
    now: tuning.now,
    gate: auth.gate,
    guests: auth.guests,
    authMode: authConfig.mode,
    conversationMaxParticipants: authConfig.conversationMaxParticipants,
  });
  // Every call on every protocol and path passes this chain, in this order.
  // The call metrics come first (when on), so they see every refusal and the whole duration.
  const metricsOn = (config.metricsPort ?? 0) !== 0;
  const policies: CallPolicy[] = [
    ...(metricsOn ? [callMetrics()] : []),
    requestLog(logger),
    ...(auth.policy === undefined ? [] : [auth.policy]),
    ...(tuning.policies ?? []),
  ];
  // Health: a Redis store that cannot be reached makes the node NOT_SERVING
  // until it is back, so a balancer sends calls to the other nodes.
  const state = servingState(shutdown.signal, () => log.serving?.() ?? true);
  const handler = connectEdge({
    routes: routes(cores, shutdown.signal, state),
    // Paths no RPC matches: plain HTTP health, the SSE gateway, the web app.
    fallback: fallbackRouter([
      { matches: (path) => path === HEALTHZ_PATH, handle: healthzFallback(state) },
      sseRoute(coreOf(cores, ChatService.method.subscribe), {
        shutdownSignal: shutdown.signal,
        policies,
      }),
      sseFeedRoute(coreOf(cores, ChatService.method.feed), {
        shutdownSignal: shutdown.signal,
        policies,
      }),
      { matches: () => true, handle: webAppFiles(config.webDir) },
    ]),
    policies,
    readMaxBytes: LIMITS.messageMaxBytes,
    maxTimeoutMs: MAX_TIMEOUT_MS,
    lean:
      tuning.leanUnary === false
        ? undefined
        : leanUnary({
            cores,
            policies,
            shutdownSignal: shutdown.signal,
            readMaxBytes: LIMITS.messageMaxBytes,
            maxTimeoutMs: MAX_TIMEOUT_MS,
          }),
  });
  const direct = directGrpc({
    methods: [
      { core: coreOf(cores, ChatService.method.send), decode: decodeSendRequest },
      { core: coreOf(cores, ChatService.method.subscribe) },
      { core: coreOf(cores, ChatService.method.feed) },
      { core: coreOf(cores, ChatService.method.echo), decode: decodeEchoRequest },
    ],
    policies,
    shutdownSignal: shutdown.signal,
    readMaxBytes: LIMITS.messageMaxBytes,
    maxTimeoutMs: MAX_TIMEOUT_MS,
  });
  const websocket = websocketEndpoint({
    cores,
    policies,
    shutdownSignal: shutdown.signal,
    readMaxBytes: LIMITS.messageMaxBytes,
    maxTimeoutMs: MAX_TIMEOUT_MS,
    scheme: config.tlsCert && config.tlsKey ? "https" : "http",
    corsOrigins: config.corsOrigins,
    pingIntervalMs: config.heartbeatMs,
    ...WS_DEFAULTS,
    ...definedOnly(config.ws ?? {}),
  });
  const edge = withNoSniff(withCors(config.corsOrigins, withSpecGrpcMessage(handler)));
  const server = await listenOnePort(withWritesReleasedOnClose(edge), {
    port: config.port,
    host: config.host,
    tls:
      config.tlsCert && config.tlsKey
        ? { certFile: config.tlsCert, keyFile: config.tlsKey }
        : undefined,
    pingIntervalMs: config.heartbeatMs,
    takeHttp2Stream: tuning.directGrpc === false ? undefined : direct,
    takeUpgrade: websocket.takeUpgrade,
    ...listenerLimits(config),
    onHandlerError: (err) =>
      logger.error({ err }, "a request handler threw; its request was answered 500"),
  });
  const url = `${server.scheme}://${urlHost(config.host)}:${server.port}`;
  let metrics: MetricsServer | undefined;
  if (metricsOn) {
    metrics = await listenMetrics(
      config.metricsPort ?? 0,
      config.metricsHost ?? DEFAULT_METRICS_HOST,
    ).catch(async (error: unknown) => {
      server.stopAccepting();
      server.destroyAll();
      hub.close();
      await log.close();
      throw error;
    });
  }
  logger.info(
    {
      url,
      store: config.store,
      retention: config.retention,
      auth: authConfig.mode,
      ...(metrics === undefined ? {} : { metrics: metrics.url }),
    },
    "parley listening",
  );

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const started = Date.now();
    const deadline = started + config.shutdownMs - 250;
    server.stopAccepting();
    shutdown.abort(
      new ConnectError("server is shutting down; resume from your last seq", Code.Unavailable),
    );
    server.drain();
    while (server.openConnections > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (server.openConnections === 0) {
      logger.info(
        { ms: Date.now() - started },
        "every connection closed before the shutdown deadline",
      );
    } else {
      logger.warn(
        { connections: server.openConnections },
        "closing connections still open at the shutdown deadline",
      );
      server.destroyAll();
    }
    hub.close();
    await log.close();
    // Last: a scrape during the shutdown still sees the connections closing.
    await metrics?.close();
    logger.info("parley stopped");
  };
  return {
    port: server.port,
    url,
    log,
    metricsUrl: metrics?.url,
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

/** The limits given a value (one set to undefined takes its default). */
function definedOnly(limits: Partial<WsLimits>): Partial<WsLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

/** The host part of the URL clients should use for a bound interface. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === "" || host === "::" || host === "0.0.0.0") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
