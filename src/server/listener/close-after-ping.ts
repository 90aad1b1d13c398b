import type * as http2 from "node:http2";
import type * as net from "node:net";
import { closeOnceFlushed } from "./close-socket.js";

/**
 * How long the PING may go unanswered before the session is closed anyway.
 * A client that reads answers within a round trip; an idle grpc C-core
 * channel (Python's grpcio) does not read its connection at all until its
 * next call, so it never answers, and it would otherwise hold the process
 * until --shutdown-ms. Everything sent before the PING was written first, and
 * the socket is ended (FIN after the data), not reset, so such a client still
 * reads every answer when it next looks.
 */
export const PING_BOUND_MS = 1000;

/**
 * Close a session for shutdown once a PING sent now has been answered, if it
 * is still `idle()` then: the peer answers a PING only after reading every
 * frame sent before it, so it holds its last responses whole before the
 * GOAWAY. A PING left unanswered for PING_BOUND_MS counts as answered. A
 * session with streams open again by then is left for the next
 * time it has none. The session's `socket` is then destroyed once the GOAWAY
 * has been flushed (closeOnceFlushed): Node's graceful close only ends it and
 * waits for the client to end its side, which grpc C-core never does.
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
    clearTimeout(bound);
    if (!session.destroyed && !session.closed && idle()) closeSession(session, socket);
  };
  const bound = setTimeout(answered, PING_BOUND_MS);
  bound.unref();
  try {
    if (!session.ping(answered)) answered();
  } catch {
    answered();
  }
}

/**
 * Close a session with no open stream (GOAWAY NO_ERROR), then its socket once
 * the GOAWAY has been flushed, rather than when the client hangs up.
 */
export function closeSession(
  session: http2.ServerHttp2Session,
  socket: net.Socket | undefined,
): void {
  session.close();
  if (socket !== undefined) closeOnceFlushed(socket);
}
