import * as http2 from "node:http2";
import type * as net from "node:net";
import type { Refusal } from "./connection-caps.js";

/** How long a refused client gets to read its answer before the socket is destroyed. */
const LINGER_MS = 2000;

/**
 * Answer a refused connection in its own protocol, then close it. HTTP/1.1:
 * 429 (too many from this address) or 503 (server full) with the reason as
 * the body. HTTP/2: GOAWAY with no stream processed, ENHANCE_YOUR_CALM or
 * REFUSED_STREAM, and the reason as its debug data, after the SETTINGS
 * frame every server connection starts with.
 */
export function connectionRefuser(): (socket: net.Socket, isH2: boolean, refusal: Refusal) => void {
  return (socket, isH2, refusal) => {
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.on("error", () => {});
    if (isH2) {
      // The frames written straight to the socket, with no HTTP/2 session
      // behind them: a refused client (one that reconnects in a loop, above
      // all) costs no nghttp2 session and none of its streams is decoded.
      const code =
        refusal.kind === "address"
          ? http2.constants.NGHTTP2_ENHANCE_YOUR_CALM
          : http2.constants.NGHTTP2_REFUSED_STREAM;
      socket.end(Buffer.concat([EMPTY_SETTINGS, goawayFrame(code, refusal.message)]));
      socket.resume();
      return;
    }
    const body = Buffer.from(`${refusal.message}\n`);
    const status = refusal.kind === "address" ? "429 Too Many Requests" : "503 Service Unavailable";
    socket.end(
      Buffer.concat([
        Buffer.from(
          `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\nretry-after: 5\r\nx-content-type-options: nosniff\r\n\r\n`,
        ),
        body,
      ]),
    );
    // Read (and drop) what the client still sends, so that closing does not
    // reset the connection before it has read the answer.
    socket.resume();
  };
}

/** A SETTINGS frame with no settings: the server's connection preface (RFC 9113, 3.4). */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);

/** A GOAWAY frame (RFC 9113, 6.8): no stream processed, `code`, and `reason` as debug data. */
function goawayFrame(code: number, reason: string): Buffer {
  const debug = Buffer.from(reason);
  const frame = Buffer.alloc(9 + 8 + debug.length);
  frame.writeUIntBE(8 + debug.length, 0, 3);
  frame[3] = 0x7;
  frame.writeUInt32BE(0, 5); // stream 0: the connection
  frame.writeUInt32BE(0, 9); // last stream id: none processed
  frame.writeUInt32BE(code, 13);
  debug.copy(frame, 17);
  return frame;
}
