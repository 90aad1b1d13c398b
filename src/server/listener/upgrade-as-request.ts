import * as http from "node:http";
import type * as net from "node:net";

/**
 * Serve a request that asked to upgrade to something the server does not
 * offer (`Upgrade: h2c` from `curl --http2`, a WebSocket upgrade on another
 * path) as the plain HTTP/1.1 request it also is, as Node does when no one
 * listens for upgrades: RFC 9110 lets a server ignore Upgrade. Node has
 * already handed the socket over and freed its parser, so the body (if any)
 * is fed to the request here from `head` and the socket, and the response
 * closes the connection. Only a Content-Length body can be read this way; a
 * chunked one is refused 400 with the reason.
 */
export function serveUpgradeAsRequest(
  h1: http.Server,
  req: http.IncomingMessage,
  socket: net.Socket,
  head: Buffer,
): void {
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once("finish", () => socket.end());
  socket.once("close", () => res.destroy());
  if (req.headers["transfer-encoding"] !== undefined) {
    res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(
      `this server does not upgrade to ${JSON.stringify(req.headers.upgrade)} and cannot read a chunked body sent with an Upgrade header; send the request without Upgrade, or with Content-Length\n`,
    );
    return;
  }
  const length = Number(req.headers["content-length"] ?? "0") || 0;
  h1.emit("request", length > 0 ? withBody(req, socket, head, length, h1.timeout) : req, res);
}

/**
 * A copy of `req` whose body is the next `length` bytes of `head` then the
 * socket: Node has already ended the original request's stream.
 */
function withBody(
  req: http.IncomingMessage,
  socket: net.Socket,
  head: Buffer,
  length: number,
  idleMs: number,
): http.IncomingMessage {
  const copy = new http.IncomingMessage(socket);
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.httpVersion = req.httpVersion;
  copy.method = req.method;
  copy.url = req.url;
  copy.rawHeaders = req.rawHeaders;
  copy.headers = req.headers;
  feedBody(copy, socket, head, length, idleMs);
  return copy;
}

/**
 * Push `length` body bytes, from `head` then the socket, into `req`, then its
 * end. Node dropped the server's idle timeout at the hand-over, so a body
 * that stops for `idleMs` (--request-idle-ms) destroys the connection here.
 */
function feedBody(
  req: http.IncomingMessage,
  socket: net.Socket,
  head: Buffer,
  length: number,
  idleMs: number,
) {
  let left = length;
  const stalled = () => socket.destroy();
  if (idleMs > 0) socket.setTimeout(idleMs, stalled);
  const take = (chunk: Buffer) => {
    if (left <= 0) return;
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    // Readable backpressure: the socket waits until the handler reads on.
    if (!req.push(part)) socket.pause();
    if (left === 0) {
      socket.off("data", take);
      socket.off("timeout", stalled);
      socket.setTimeout(0);
      req.complete = true;
      req.push(null);
    }
  };
  req._read = () => {
    socket.resume();
  };
  socket.on("data", take);
  if (head.length > 0) take(head);
  socket.resume();
}
