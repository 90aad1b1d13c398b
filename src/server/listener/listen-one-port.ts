import type * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { AddressInfo } from "node:net";
import { countConnection, countUpgrade } from "../../metrics/connection-metrics.js";
import { admission } from "./admission.js";
import { connectionLifecycle } from "./connection-lifecycle.js";
import { LISTENER_DEFAULTS } from "./defaults.js";
import { dispatchingServer } from "./dispatch.js";
import { guardHandler, guardStreamTaker, logHandlerError } from "./guard-handler.js";
import { createHttp1Server } from "./http1-server.js";
import { limitHttp2Idle } from "./http2-idle.js";
import { handOverCheckingPreface } from "./refused-preface.js";
import { resetBudget } from "./reset-budget.js";
import type { ListenOptions, OnePortServer, RequestHandler } from "./types.js";
import { serveUpgradeAsRequest } from "./upgrade-as-request.js";

/**
 * Serve HTTP/1.1 and HTTP/2 on one port. Cleartext: each accepted connection
 * is sniffed for the HTTP/2 preface and handed to the HTTP/2 or the HTTP/1.1
 * server. TLS: ALPN offers h2 and http/1.1.
 */
export async function listenOnePort(
  unguarded: RequestHandler,
  options: ListenOptions,
): Promise<OnePortServer> {
  const onError = options.onHandlerError ?? logHandlerError;
  const handler = guardHandler(unguarded, onError);
  const limits = { ...LISTENER_DEFAULTS, ...definedOnly(options) };
  const h1 = createHttp1Server(limits);
  h1.on("request", handler as http.RequestListener);
  // Neither h1 nor h2 listens: the dispatching server hands each connection to one of them.
  const h2 = http2.createServer({
    settings: { maxConcurrentStreams: limits.maxStreamsPerConnection },
  });
  const h2Idle = limitHttp2Idle(h2, limits);
  // A second HTTP/2 server that never sees a connection: Node's compatibility
  // layer, which turns the streams h2 passes on into the (req, res) pairs
  // `handler` takes, exactly as a server created with that handler would.
  const compat = http2.createServer(
    handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const take = options.takeHttp2Stream
    ? guardStreamTaker(options.takeHttp2Stream, onError)
    : () => false;
  const lifecycle = connectionLifecycle(h1, h2, h2Idle, options.pingIntervalMs);
  const takeUpgrade = options.takeUpgrade;
  if (takeUpgrade !== undefined) {
    // Node hands every upgrade request here once anyone listens for them.
    h1.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      let taken = false;
      try {
        taken = takeUpgrade(req, socket, head);
      } catch (error) {
        onError(error);
        socket.destroy();
        return;
      }
      if (taken) {
        lifecycle.upgraded(socket);
        countUpgrade(socket);
      } else serveUpgradeAsRequest(h1, req, socket, head);
    });
  }
  const resets =
    options.maxResetsPerAddress === undefined || options.maxResetsPerAddress === 0
      ? undefined
      : resetBudget(options.maxResetsPerAddress);
  const door = admission(
    {
      maxConnections: limits.maxConnections,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress,
    },
    resets,
  );
  h2.on(
    "stream",
    (
      stream: http2.ServerHttp2Stream,
      headers: http2.IncomingHttpHeaders,
      flags: number,
      rawHeaders: string[],
    ) => {
      if (resets !== undefined && !resets.admit(stream)) return;
      if (!take(stream, headers)) compat.emit("stream", stream, headers, flags, rawHeaders);
    },
  );

  // Cleartext connections come with their whole client preface (sniff-preface.ts).
  const handOverH2 = options.tls ? undefined : handOverCheckingPreface(h2);
  const { listener, scheme } = dispatchingServer(
    {
      tls: options.tls,
      sniffTimeoutMs: limits.sniffTimeoutMs,
    },
    (socket, isH2) => {
      if (door.refusedHandOver(socket, isH2)) return;
      lifecycle.handedOver(socket, isH2);
      countConnection(socket, isH2);
      if (isH2 && handOverH2 !== undefined) handOverH2(socket);
      else (isH2 ? h2 : h1).emit("connection", socket);
    },
  );
  listener.on("connection", (socket: net.Socket) => {
    lifecycle.accepted(socket);
    door.accepted(socket);
  });
  listener.once("close", () => {
    lifecycle.stop();
    // Stops Node's HTTP/1.1 deadline check (the server has no connection left).
    h1.close();
  });

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => {
      listener.off("error", reject);
      resolve();
    });
  });

  return {
    port: (listener.address() as AddressInfo).port,
    scheme,
    get openConnections() {
      return lifecycle.open;
    },
    stopAccepting() {
      // close() calls back only once every connection is gone; drain() sees to those.
      listener.close();
    },
    drain() {
      lifecycle.drain();
    },
    destroyAll() {
      lifecycle.destroyAll();
    },
  };
}

/** The options given a value (an option set to undefined takes its default). */
function definedOnly(options: ListenOptions): Partial<typeof LISTENER_DEFAULTS> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(LISTENER_DEFAULTS) as (keyof typeof LISTENER_DEFAULTS)[]) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
