import type * as net from "node:net";

/**
 * How long a connection the server has ended may take to flush its last
 * bytes (a GOAWAY, the end of a response) before it is destroyed anyway: the
 * client is not reading.
 */
export const FLUSH_BOUND_MS = 1000;

/**
 * Destroy `socket` once everything written to it has been flushed and its
 * end sent (its 'finish'), or after FLUSH_BOUND_MS, whichever comes first.
 * Call it once the socket has been (or is being) ended.
 *
 * Why: an ended socket only half-closes. Node then waits for the client to
 * end its side, and a client that keeps an idle connection (grpc C-core after
 * a GOAWAY, an HTTP/1.1 keep-alive pool) may never do so, which kept the
 * process alive at shutdown until --shutdown-ms. This is what Node's own
 * `destroySoon()` does, plus the bound.
 */
export function closeOnceFlushed(socket: net.Socket): void {
  if (socket.destroyed) return;
  const bound = setTimeout(destroy, FLUSH_BOUND_MS, socket);
  bound.unref();
  socket.once("close", () => clearTimeout(bound));
  if (socket.writableFinished) setImmediate(destroy, socket);
  else socket.once("finish", () => setImmediate(destroy, socket));
}

function destroy(socket: net.Socket): void {
  if (!socket.destroyed) socket.destroy();
}
