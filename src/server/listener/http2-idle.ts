import * as http2 from "node:http2";

/** Idle limits of the HTTP/2 server. */
export interface Http2IdleLimits {
  /** A stream that moves no byte either way for this long is reset (CANCEL). */
  requestIdleMs: number;
  /** A session with no open stream for this long is closed (GOAWAY, NO_ERROR). */
  idleConnectionMs: number;
}

/**
 * End what idles on the HTTP/2 server: streams with no traffic while their
 * request is still coming (a body that never comes; bidi streams stay busy
 * with their heartbeats), connections that carry no stream (pings do not
 * count as use), and connections whose client has said goodbye.
 *
 * A client's GOAWAY(NO_ERROR) means it opens no more streams: its open ones
 * finish and the connection is then destroyed, not kept until the idle
 * timeout. Any other code means it has given up on the connection, which is
 * destroyed at once (its streams end and their subscribers leave). Node's
 * server only reports a client's GOAWAY, and its graceful close() would wait
 * for the client to close the socket, which a client that went quiet never does.
 */
export function limitHttp2Idle(h2: http2.Http2Server, limits: Http2IdleLimits): void {
  h2.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.setTimeout(limits.requestIdleMs);
    stream.on("timeout", resetIdleStream);
    stream.on("end", stopIdleTimer);
  });
  h2.on("session", (session: http2.ServerHttp2Session) => {
    let open = 0;
    let peerLeft = false;
    let timer: NodeJS.Timeout | undefined;
    const idle = () => {
      timer = setTimeout(() => {
        if (!session.closed && !session.destroyed) session.close();
      }, limits.idleConnectionMs);
      timer.unref();
    };
    // One listener per session, shared by its streams: an idle Subscribe
    // stream then costs no closure here (bench/stream-heap.ts).
    const streamClosed = () => {
      open--;
      if (open > 0) return;
      if (peerLeft) session.destroy();
      else idle();
    };
    session.once("goaway", (code: number) => {
      peerLeft = true;
      if (code !== http2.constants.NGHTTP2_NO_ERROR || open === 0) session.destroy();
    });
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      open++;
      clearTimeout(timer);
      stream.on("close", streamClosed);
    });
    session.once("close", () => clearTimeout(timer));
    idle();
  });
}

/**
 * The stream's timer is for a request body that stops coming; once the
 * request has ended it has nothing left to guard (a reader that stops
 * reading a live stream is the slow-subscriber cut-off's to judge), and an
 * idle Subscribe stream no longer holds a timer. Shared functions with
 * `this`, not closures: nothing per stream.
 */
function stopIdleTimer(this: http2.ServerHttp2Stream): void {
  this.setTimeout(0);
}

function resetIdleStream(this: http2.ServerHttp2Stream): void {
  if (!this.destroyed) this.close(http2.constants.NGHTTP2_CANCEL);
}
