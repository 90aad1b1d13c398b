import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import * as tls from "node:tls";

/** The HTTP/2 connection preface every h2c client sends first. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** A request handler both HTTP versions accept (connect-node's adapter is one). */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Where and how to listen. */
export interface ListenOptions {
  port: number;
  /** Interface to bind; undefined binds all (IPv6 and IPv4 where available). */
  host?: string | undefined;
  /** PEM certificate and key files; both or neither. */
  tls?: { certFile: string; keyFile: string } | undefined;
  /**
   * Ping every HTTP/2 connection this often; one that has not answered the
   * previous ping by the next is dead (the peer vanished without closing)
   * and is destroyed, which ends its streams.
   */
  pingIntervalMs: number;
  /**
   * Offered every HTTP/2 stream first; a stream it declines goes to `handler`
   * through Node's HTTP/2 compatibility API.
   */
  takeHttp2Stream?: Http2StreamTaker;
}

/** Takes an HTTP/2 stream and answers it, or declines (false) and leaves it untouched. */
export type Http2StreamTaker = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) => boolean;

/** A listening one-port server. */
export interface OnePortServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** "http" or "https". */
  readonly scheme: "http" | "https";
  /** Connections currently open. */
  readonly openConnections: number;
  /** Stop accepting new connections; open ones stay. */
  stopAccepting(): void;
  /** Ask every connection to finish: GOAWAY to HTTP/2 sessions, close HTTP/1.1 connections once idle. */
  drain(): void;
  /** Destroy every connection still open. */
  destroyAll(): void;
}

/**
 * Serve HTTP/1.1 and HTTP/2 on one port. Cleartext: each accepted connection
 * is sniffed for the HTTP/2 preface (h2c with prior knowledge, what gRPC
 * clients and `buf curl` send) and handed to the HTTP/2 or the HTTP/1.1
 * server. TLS: ALPN offers h2 and http/1.1.
 */
export async function listenOnePort(
  handler: RequestHandler,
  options: ListenOptions,
): Promise<OnePortServer> {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const h2Streams = trackAnsweredHttp2Streams();
  const h1 = http.createServer();
  const h1Idle = trackIdleHttp1(h1);
  h1.on("request", handler as http.RequestListener);
  // Neither h1 nor h2 listens: the listener below hands each connection to one of them.
  const h2 = http2.createServer();
  // A second HTTP/2 server that never sees a connection: Node's compatibility
  // layer, which turns the streams h2 passes on into the (req, res) pairs
  // `handler` takes, exactly as a server created with that handler would.
  const compat = http2.createServer(
    handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const take = options.takeHttp2Stream ?? (() => false);
  h2.on(
    "stream",
    (
      stream: http2.ServerHttp2Stream,
      headers: http2.IncomingHttpHeaders,
      flags: number,
      rawHeaders: string[],
    ) => {
      h2Streams.add(stream);
      if (!take(stream, headers)) compat.emit("stream", stream, headers, flags, rawHeaders);
    },
  );
  h2.on("session", (s: http2.ServerHttp2Session) => track(sessions, s));
  const handOver = (socket: net.Socket, isH2: boolean) => {
    if (!isH2) h1Idle.add(socket);
    (isH2 ? h2 : h1).emit("connection", socket);
  };

  let listener: net.Server;
  let scheme: "http" | "https";
  if (options.tls) {
    listener = tls.createServer(
      {
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        ALPNProtocols: ["h2", "http/1.1"],
      },
      // A client that negotiates no protocol speaks HTTP/1.1.
      (socket) => handOver(socket, socket.alpnProtocol === "h2"),
    );
    scheme = "https";
  } else {
    listener = net.createServer((socket) => sniffPreface(socket, (isH2) => handOver(socket, isH2)));
    scheme = "http";
  }
  listener.on("connection", (socket: net.Socket) => track(sockets, socket));
  listener.on("connection", (socket: net.Socket) => socket.setKeepAlive(true, 30_000));

  const pinger = pingSessions(sessions, options.pingIntervalMs);
  listener.once("close", () => clearInterval(pinger));

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
      return sockets.size;
    },
    stopAccepting() {
      // close() calls back only once every connection is gone; drain() sees to those.
      listener.close();
    },
    drain() {
      for (const s of sessions) s.close();
      h2Streams.closeAnswered();
      h1Idle.closeWhenIdle();
    },
    destroyAll() {
      for (const s of sessions) s.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * A session closing after GOAWAY waits for all its streams. A stream whose
 * response is complete while its request side was never read to the end (for
 * example a request refused for its size) would hold the session open until
 * the deadline: Node ends a stream only when both sides have ended, and
 * stream.close(NO_ERROR), which RFC 9113 section 8.1 describes for this case,
 * still waits for the unread side. So once draining, such streams are
 * destroyed; their clients already have the whole response.
 */
function trackAnsweredHttp2Streams() {
  const open = new Set<http2.ServerHttp2Stream>();
  let draining = false;
  const closeIfAnswered = (stream: http2.ServerHttp2Stream) => {
    if (stream.writableFinished && !stream.readableEnded) stream.destroy();
  };
  return {
    add(stream: http2.ServerHttp2Stream) {
      open.add(stream);
      stream.once("close", () => open.delete(stream));
      stream.once("finish", () => {
        if (draining) closeIfAnswered(stream);
      });
    },
    closeAnswered() {
      draining = true;
      for (const stream of open) closeIfAnswered(stream);
    },
  };
}

/**
 * HTTP/1.1 keep-alive connections handed over by the sniffer are unknown to
 * http.Server's own idle tracking (it starts only when that server listens),
 * so count open requests per socket here: after closeWhenIdle(), idle sockets
 * end now and busy ones end when their last response does.
 */
function trackIdleHttp1(h1: http.Server) {
  const openRequests = new Map<net.Socket, number>();
  let closing = false;
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    openRequests.set(socket, (openRequests.get(socket) ?? 0) + 1);
    if (closing) res.shouldKeepAlive = false;
    res.once("close", () => {
      const left = (openRequests.get(socket) ?? 1) - 1;
      openRequests.set(socket, left);
      if (left === 0 && closing) socket.end();
    });
  });
  return {
    add(socket: net.Socket) {
      openRequests.set(socket, 0);
      socket.once("close", () => openRequests.delete(socket));
    },
    closeWhenIdle() {
      closing = true;
      for (const [socket, open] of openRequests) if (open === 0) socket.end();
    },
  };
}

/** See ListenOptions.pingIntervalMs. */
function pingSessions(sessions: Set<http2.ServerHttp2Session>, intervalMs: number): NodeJS.Timeout {
  const unanswered = new WeakSet<http2.ServerHttp2Session>();
  const timer = setInterval(() => {
    for (const session of sessions) {
      // A session being torn down is still in the set until its 'close'; ping() would throw.
      if (session.destroyed || session.closed) continue;
      if (unanswered.has(session)) {
        session.destroy(new Error(`no answer to an HTTP/2 ping within ${intervalMs} ms`));
        continue;
      }
      unanswered.add(session);
      const sent = session.ping((error) => {
        if (!error) unanswered.delete(session);
      });
      if (!sent) unanswered.delete(session);
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

function track<T extends { once(event: "close", fn: () => void): unknown }>(
  set: Set<T>,
  item: T,
): void {
  set.add(item);
  item.once("close", () => set.delete(item));
}

/**
 * Read just enough of a new connection to tell h2c from HTTP/1.1, then put
 * the bytes back and hand the socket over. HTTP/1.1 requests start with a
 * method token, which can never match the preface's "PRI * HTTP/2.0".
 */
function sniffPreface(socket: net.Socket, handOver: (isH2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const isPrefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isPrefix && n < H2_PREFACE.length) return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    handOver(isPrefix);
    // The HTTP/2 session reads what is buffered itself; the HTTP/1.1 server
    // only listens for 'data', so its socket must flow again.
    if (!isPrefix) socket.resume();
  };
  socket.on("data", onData);
}
