import * as http2 from "node:http2";
import type * as net from "node:net";
import type { Refusal } from "./connection-caps.js";

/** How long a refused client gets to read its answer before the socket is destroyed. */
const LINGER_MS = 2000;

/**
 * Answer a refused connection in its own protocol, then close it. HTTP/1.1:
 * 429 (too many from this address) or 503 (server full) with the reason as
 * the body. HTTP/2: GOAWAY with no stream processed, ENHANCE_YOUR_CALM or
 * REFUSED_STREAM, and the reason as its debug data.
 */
export function connectionRefuser(): (socket: net.Socket, isH2: boolean, refusal: Refusal) => void {
  const h2 = http2.createServer();
  // emit("connection") creates the session and emits 'session' synchronously.
  let refusing: Refusal | undefined;
  h2.on("session", (session: http2.ServerHttp2Session) => {
    const refusal = refusing;
    const code =
      refusal?.kind === "address"
        ? http2.constants.NGHTTP2_ENHANCE_YOUR_CALM
        : http2.constants.NGHTTP2_REFUSED_STREAM;
    session.on("error", () => {});
    session.goaway(code, 0, Buffer.from(refusal?.message ?? "refused"));
    session.close();
  });
  return (socket, isH2, refusal) => {
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
    if (isH2) {
      refusing = refusal;
      h2.emit("connection", socket);
      refusing = undefined;
      return;
    }
    const body = Buffer.from(`${refusal.message}\n`);
    const status = refusal.kind === "address" ? "429 Too Many Requests" : "503 Service Unavailable";
    socket.on("error", () => {});
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
