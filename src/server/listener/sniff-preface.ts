import type * as net from "node:net";

/** The HTTP/2 connection preface every h2c client sends first. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** An HTTP/2 frame header: length (3), type, flags, stream id (4). */
const FRAME_HEADER = 9;

/** A first frame longer than this is refused on its header (SETTINGS_MAX_FRAME_SIZE's initial value). */
const MAX_FIRST_FRAME = 16_384;

/**
 * Read just enough of a new cleartext connection to tell h2c from HTTP/1.1,
 * then put the bytes back and hand the socket over. HTTP/1.1 requests start
 * with a method token, which can never match the preface's "PRI * HTTP/2.0".
 *
 * An h2c connection is handed over with its whole client preface: the magic
 * string and the first frame after it (RFC 9113 section 3.4: a SETTINGS
 * frame), or just that frame's header when it is too long to be accepted.
 * The HTTP/2 session reads it all at once, so by the next turn it has either
 * taken the client's SETTINGS or refused them (refused-preface.ts).
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
    if (isPrefix && !wholeClientPreface(seen)) return;
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

/** Whether `seen` (which starts like the magic string) holds the magic string and the whole first frame. */
function wholeClientPreface(seen: Buffer): boolean {
  const header = H2_PREFACE.length;
  if (seen.length < header + FRAME_HEADER) return false;
  const length = seen.readUIntBE(header, 3);
  return length > MAX_FIRST_FRAME || seen.length >= header + FRAME_HEADER + length;
}
