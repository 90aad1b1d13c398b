import type * as http2 from "node:http2";
import type * as net from "node:net";

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
export function closeAfterPing(
  session: http2.ServerHttp2Session,
  socket: net.Socket | undefined,
  idle: () => boolean,
): void {
  // A session the peer's own GOAWAY closed is ended by Node once its streams have.
  if (session.destroyed || session.closed) return;
  const answered = () => {
    if (!session.destroyed && !session.closed && idle()) closeFinished(session, socket);
  };
  if (!pinged(session, answered)) answered();
}

/**
 * Longest wait for a peer to read a GOAWAY before its socket is closed
 * anyway: a peer that stopped reading must not hold a shutdown.
 */
export const GOAWAY_READ_MS = 1000;

/**
 * Close a session that has no open stream and never will: GOAWAY, then, once
 * a PING sent after it is answered (the peer has read the GOAWAY) or after
 * GOAWAY_READ_MS, destroy it and its socket. session.close() alone leaves
 * the socket to the peer, and a peer that keeps its connection after a
 * GOAWAY (grpc C-core: Python's and others' channels) held the process
 * until the shutdown deadline: 9.7 s of --shutdown-ms 10000 with 20 idle
 * Python channels.
 */
export function closeFinished(
  session: http2.ServerHttp2Session,
  socket: net.Socket | undefined,
): void {
  session.close();
  if (session.destroyed) return;
  const timer = setTimeout(destroy, GOAWAY_READ_MS);
  function destroy() {
    clearTimeout(timer);
    if (!session.destroyed) session.destroy();
    // session.destroy() only half-closes the socket and waits for the peer's
    // FIN, which grpcio sent about 5 s later: nothing is left to say on it.
    // (The raw socket: session.socket refuses destroy().)
    socket?.destroy();
  }
  if (!pinged(session, destroy)) destroy();
}

/** Send a PING whose answer (or failure) calls `then`; false when none could be sent. */
function pinged(session: http2.ServerHttp2Session, then: () => void): boolean {
  try {
    return session.ping(() => then());
  } catch {
    return false;
  }
}
