import * as http from "node:http";
import type { Socket } from "node:net";

/** Time limits of the HTTP/1.1 server. */
export interface Http1Limits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  requestIdleMs: number;
}

/**
 * The HTTP/1.1 server connections are handed to. Its headersTimeout and
 * requestTimeout are enforced by a check Node starts only when the server
 * listens (setupConnectionsTracking, on 'listening'), and this server never
 * listens: the dispatching server does. So 'listening' is emitted here to
 * start that check. A request whose headers (or whole request) are not in by
 * their deadline is answered 408 and its connection closed; a connection
 * that moves no byte either way for requestIdleMs while a request is open is
 * closed too, with a 408 saying so when no answer to it has begun (between
 * requests Node's keep-alive timeout applies).
 */
export function createHttp1Server(limits: Http1Limits): http.Server {
  const h1 = http.createServer({
    // Node refuses a headers deadline past the whole request's.
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    // Node checks the deadlines this often (30 s by default, which would let a
    // short deadline overrun by that much).
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, limits.headersTimeoutMs / 4, limits.requestTimeoutMs / 4),
    ),
  });
  h1.timeout = limits.requestIdleMs;
  // The request each connection is answering, to know whether its answer began.
  const answering = new WeakMap<object, http.ServerResponse>();
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    answering.set(req.socket, res);
  });
  // With a 'timeout' listener Node leaves the socket to us: answer, then close.
  h1.on("timeout", (socket: Socket) => {
    const res = answering.get(socket);
    if (res === undefined || res.headersSent || res.writableEnded) {
      socket.destroy();
      return;
    }
    const text = `request idle for ${limits.requestIdleMs} ms (--request-idle-ms): no byte came\n`;
    socket.end(
      `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
    // A client that does not read cannot hold the socket by it.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  h1.emit("listening");
  return h1;
}
