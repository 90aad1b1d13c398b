import type * as http2 from "node:http2";

/**
 * Close HTTP/2 sessions for shutdown without cutting off responses.
 *
 * A session is closed (GOAWAY, then the socket ends) only once it has no
 * open stream and a PING sent after its last stream closed has been
 * answered: the peer answers a PING only after reading every frame sent
 * before it, so it holds its last responses whole. Calls that arrive
 * meanwhile are served: a unary call as usual, a stream ended at once with
 * UNAVAILABLE as every open stream is.
 *
 * Why not session.close() at once, as Node suggests: a GOAWAY makes a Node
 * client answer with its own GOAWAY, on which Node closes the server session
 * and destroys it on the turn its last stream closes. Under load the socket
 * then sometimes ended before that stream's last frames were written: the
 * client saw the response headers, the GOAWAY, and the end of the
 * connection, and reported its call as CANCEL: 15 shutdowns in 200 with ten
 * writers racing SIGTERM, none of 200 since (`npm run bench:shutdown-race`;
 * workarounds/README.md).
 */
export function http2SessionDrain() {
  // Kept only once draining begins: nothing is counted while serving.
  const streams = new Map<http2.Http2Session, number>();
  const pinging = new WeakSet<http2.Http2Session>();
  let draining = false;

  const closeWhenIdle = (session: http2.Http2Session) => {
    if (session.destroyed || pinging.has(session) || (streams.get(session) ?? 0) > 0) return;
    // The peer's own GOAWAY closed it already: Node ends it once its streams have.
    if (session.closed) return;
    pinging.add(session);
    const afterPing = () => {
      pinging.delete(session);
      if (session.destroyed || session.closed) return;
      // A call that came in meanwhile closes the session when it ends.
      if ((streams.get(session) ?? 0) === 0) session.close();
    };
    try {
      if (!session.ping(afterPing)) afterPing();
    } catch {
      afterPing();
    }
  };
  const count = (stream: http2.ServerHttp2Stream) => {
    const session = stream.session;
    if (session === undefined) return;
    streams.set(session, (streams.get(session) ?? 0) + 1);
    stream.once("close", () => {
      streams.set(session, (streams.get(session) ?? 1) - 1);
      closeWhenIdle(session);
    });
  };

  return {
    /** A stream opened: counted once draining has begun. */
    opened(stream: http2.ServerHttp2Stream) {
      if (draining) count(stream);
    },
    /** Close every session once its streams (`open`, and any opened from now on) have closed. */
    drain(sessions: Iterable<http2.Http2Session>, open: Iterable<http2.ServerHttp2Stream>) {
      if (draining) return;
      draining = true;
      for (const stream of open) count(stream);
      for (const session of sessions) closeWhenIdle(session);
    },
  };
}
