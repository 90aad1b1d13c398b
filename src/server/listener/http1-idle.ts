import type * as http from "node:http";
import type * as net from "node:net";
import { closeOnceFlushed } from "./close-socket.js";

/**
 * HTTP/1.1 keep-alive connections handed over by the sniffer are unknown to
 * http.Server's own idle tracking (it starts only when that server listens),
 * so count open requests per socket here: after closeWhenIdle(), idle sockets
 * end now and busy ones end when their last response does. An ended socket is
 * destroyed once its end is flushed: a keep-alive client need not hang up.
 */
export function trackIdleHttp1(h1: http.Server) {
  const openRequests = new Map<net.Socket, number>();
  let closing = false;
  // Before the request handler, which may answer at once (/healthz does): a
  // response whose headers are written can no longer say Connection: close.
  h1.prependListener("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    openRequests.set(socket, (openRequests.get(socket) ?? 0) + 1);
    if (closing) res.shouldKeepAlive = false;
    res.once("close", () => {
      const left = (openRequests.get(socket) ?? 1) - 1;
      openRequests.set(socket, left);
      if (left === 0 && closing) endSocket(socket);
    });
  });
  return {
    /** The socket was upgraded (a WebSocket): no longer HTTP, its own endpoint closes it at shutdown. */
    forget(socket: net.Socket) {
      openRequests.delete(socket);
    },
    add(socket: net.Socket) {
      openRequests.set(socket, 0);
      socket.once("close", () => openRequests.delete(socket));
    },
    closeWhenIdle() {
      closing = true;
      for (const [socket, open] of openRequests) if (open === 0) endSocket(socket);
    },
  };
}

function endSocket(socket: net.Socket): void {
  socket.end();
  closeOnceFlushed(socket);
}
