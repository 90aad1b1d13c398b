import type * as http2 from "node:http2";

/**
 * Close a session for shutdown once a PING sent now has been answered, if it
 * is still `idle()` then: the peer answers a PING only after reading every
 * frame sent before it, so it holds its last responses whole before the
 * GOAWAY. A session with streams open again by then is left for the next
 * time it has none.
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
export function closeAfterPing(session: http2.ServerHttp2Session, idle: () => boolean): void {
  // A session the peer's own GOAWAY closed is ended by Node once its streams have.
  if (session.destroyed || session.closed) return;
  const answered = () => {
    if (!session.destroyed && !session.closed && idle()) session.close();
  };
  try {
    if (!session.ping(answered)) answered();
  } catch {
    answered();
  }
}
