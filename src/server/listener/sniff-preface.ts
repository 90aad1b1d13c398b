import type * as net from "node:net";

/** The HTTP/2 connection preface every h2c client sends first. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Read just enough of a new cleartext connection to tell h2c from HTTP/1.1,
 * then put the bytes back and hand the socket over. HTTP/1.1 requests start
 * with a method token, which can never match the preface's "PRI * HTTP/2.0".
 *
 * Until it is handed over the socket belongs to no HTTP server, so nothing
 * else times it out or listens for its errors: a socket that has not shown
 * its protocol within `timeoutMs` is destroyed, and an error (a reset) just
 * destroys it rather than going unhandled and ending the process.
 */
export function sniffPreface(
  socket: net.Socket,
  timeoutMs: number,
  handOver: (isH2: boolean) => void,
): void {
  let seen: Buffer = Buffer.alloc(0);
  const onError = () => socket.destroy();
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const stop = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("close", stop);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const isPrefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isPrefix && n < H2_PREFACE.length) return;
    stop();
    socket.pause();
    socket.unshift(seen);
    handOver(isPrefix);
    // The HTTP/2 session reads what is buffered itself; the HTTP/1.1 server
    // only listens for 'data', so its socket must flow again.
    if (!isPrefix) socket.resume();
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.once("close", stop);
}
