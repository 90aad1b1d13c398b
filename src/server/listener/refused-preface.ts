import type * as http2 from "node:http2";
import type * as net from "node:net";

/**
 * Hand cleartext HTTP/2 connections to `h2`, and destroy at once a session
 * whose client preface nghttp2 refused. A first frame that is not valid
 * SETTINGS (a length that is not a multiple of 6, a value out of range,
 * another frame type) is a connection error: nghttp2 sends GOAWAY with its
 * code (FRAME_SIZE_ERROR, PROTOCOL_ERROR, ...) and then neither reads nor
 * writes, but Node reports nothing and keeps the socket for as long as the
 * client does (RFC 9113 section 5.4.1: after that GOAWAY the endpoint MUST
 * close the TCP connection). The sniffer hands over the whole first frame
 * (sniff-preface.ts), which the session reads as it is made, so a session
 * whose 'remoteSettings' has not come by the next turn was refused. Its
 * destroy() sends no second GOAWAY, and Node ends the socket once the
 * first has been written.
 *
 * A protocol error later in the connection is found by the next ping
 * (ping-sessions.ts), which a session nghttp2 gave up on never sends.
 */
export function handOverCheckingPreface(h2: http2.Http2Server): (socket: net.Socket) => void {
  let made: http2.ServerHttp2Session | undefined;
  h2.on("session", (session: http2.ServerHttp2Session) => {
    made = session;
    session.once("remoteSettings", settled);
  });
  return (socket) => {
    made = undefined;
    h2.emit("connection", socket);
    if (made !== undefined) setImmediate(destroyIfRefused, made);
    made = undefined;
  };
}

const hasSettings = new WeakSet<http2.ServerHttp2Session>();

function settled(this: http2.ServerHttp2Session): void {
  hasSettings.add(this);
}

function destroyIfRefused(session: http2.ServerHttp2Session): void {
  if (!hasSettings.has(session) && !session.destroyed) session.destroy();
}
