import * as http from "node:http";
import type * as net from "node:net";

/**
 * Serve a request that asked to upgrade to something the server does not
 * offer (`Upgrade: h2c` from `curl --http2`, a WebSocket upgrade on another
 * path) as the plain HTTP/1.1 request it also is, as Node does when no one
 * listens for upgrades: RFC 9110 lets a server ignore Upgrade. Node has
 * already handed the socket over, so the response closes the connection,
 * and a request with a body (which Node no longer reads) is refused 400.
 */
export function serveUpgradeAsRequest(
  h1: http.Server,
  req: http.IncomingMessage,
  socket: net.Socket,
): void {
  const hasBody =
    req.headers["transfer-encoding"] !== undefined ||
    Number(req.headers["content-length"] ?? "0") > 0;
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once("finish", () => socket.end());
  socket.once("close", () => res.destroy());
  if (hasBody) {
    res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(
      `this server does not upgrade to ${JSON.stringify(req.headers.upgrade)}; send the request without an Upgrade header\n`,
    );
    return;
  }
  // Node frees the parser before an upgrade, so the (empty) body never ends by itself.
  req.push(null);
  h1.emit("request", req, res);
}
