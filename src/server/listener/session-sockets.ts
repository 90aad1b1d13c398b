import type * as http2 from "node:http2";
import type * as net from "node:net";

/**
 * The socket under each session of `h2`. A session only offers a proxy of
 * its socket that refuses destroy(), and it lets go of the socket as it
 * closes, yet after a graceful close it is the socket that must still be
 * closed (close-socket.ts). Node's server makes the session, and emits
 * 'session', while it handles 'connection': the socket heard first here is
 * the one that session gets.
 */
export function trackSessionSockets(
  h2: http2.Http2Server,
): (session: http2.ServerHttp2Session) => net.Socket | undefined {
  const sockets = new WeakMap<http2.ServerHttp2Session, net.Socket>();
  let arriving: net.Socket | undefined;
  h2.prependListener("connection", (socket: net.Socket) => {
    arriving = socket;
  });
  h2.prependListener("session", (session: http2.ServerHttp2Session) => {
    if (arriving !== undefined) sockets.set(session, arriving);
    arriving = undefined;
  });
  return (session) => sockets.get(session);
}
