import * as http2 from "node:http2";
import type * as net from "node:net";
import { closeAfterPing, closeSession } from "./close-after-ping.js";
import { trackSessionSockets } from "./session-sockets.js";

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
 *
 * Once shutdown begins (drain), a session with no open stream is closed
 * after a PING round trip instead of after the idle timeout. Either way the
 * server then closes the socket itself once its GOAWAY is flushed.
 */
export function limitHttp2Idle(h2: http2.Http2Server, limits: Http2IdleLimits): Http2Idle {
  const server: ServerIdle = { idleMs: limits.idleConnectionMs, draining: false };
  const socketOf = trackSessionSockets(h2);
  h2.on("stream", watchRequestIdle(limits.requestIdleMs));
  h2.on("session", (session: http2.ServerHttp2Session) => {
    const state: SessionIdle = {
      server,
      socket: socketOf(session),
      open: 0,
      peerLeft: false,
      timer: undefined,
      // The one closure a session needs (a stream's 'close' cannot reach its
      // session: Node unlinks it first); shared by all its streams.
      streamClosed: () => streamClosed(session, state),
    };
    sessions.set(session, state);
    session.once("goaway", peerGoaway);
    session.on("stream", streamOpened);
    session.once("close", sessionClosed);
    armIdle(session, state);
  });
  return {
    drain(open) {
      server.draining = true;
      for (const session of open) {
        const state = sessions.get(session);
        if (state === undefined || state.open > 0) continue;
        disarmIdle(state);
        closeWhenIdle(session, state);
      }
    },
  };
}

/** The idle limits' part in shutdown. */
export interface Http2Idle {
  /**
   * From now on a session with no open stream is closed (after a PING round
   * trip, see closeAfterPing) instead of after the idle timeout: those of
   * `sessions` at once, the others when their last stream closes.
   */
  drain(sessions: Iterable<http2.ServerHttp2Session>): void;
}

/** What every session of one server shares. */
interface ServerIdle {
  idleMs: number;
  draining: boolean;
}

/** What limitHttp2Idle keeps per session; listeners shared by all sessions find it here. */
interface SessionIdle {
  server: ServerIdle;
  /** The socket under the session, closed by the server once the session is closed. */
  socket: net.Socket | undefined;
  open: number;
  peerLeft: boolean;
  timer: NodeJS.Timeout | undefined;
  streamClosed: () => void;
}

const sessions = new WeakMap<http2.ServerHttp2Session, SessionIdle>();

function armIdle(session: http2.ServerHttp2Session, state: SessionIdle): void {
  state.timer = setTimeout(closeIdle, state.server.idleMs, session, state);
  state.timer.unref();
}

function disarmIdle(state: SessionIdle): void {
  clearTimeout(state.timer);
  // Dropped, not only cleared: a stopped timer still holds its callback and arguments.
  state.timer = undefined;
}

function closeIdle(session: http2.ServerHttp2Session, state: SessionIdle): void {
  if (!session.closed && !session.destroyed) closeSession(session, state.socket);
}

function streamClosed(session: http2.ServerHttp2Session, state: SessionIdle): void {
  state.open--;
  if (state.open > 0) return;
  if (state.peerLeft) session.destroy();
  else if (state.server.draining) closeWhenIdle(session, state);
  else armIdle(session, state);
}

function closeWhenIdle(session: http2.ServerHttp2Session, state: SessionIdle): void {
  closeAfterPing(session, state.socket, () => state.open === 0);
}

function peerGoaway(this: http2.ServerHttp2Session, code: number): void {
  const state = sessions.get(this);
  if (state === undefined) return;
  state.peerLeft = true;
  if (code !== http2.constants.NGHTTP2_NO_ERROR || state.open === 0) this.destroy();
}

function streamOpened(this: http2.ServerHttp2Session, stream: http2.ServerHttp2Stream): void {
  const state = sessions.get(this);
  if (state === undefined) return;
  state.open++;
  disarmIdle(state);
  stream.on("close", state.streamClosed);
}

function sessionClosed(this: http2.ServerHttp2Session): void {
  const state = sessions.get(this);
  if (state !== undefined) disarmIdle(state);
}

/** The longest a new stream waits before its request is looked at. */
const FIRST_LOOK_MS = 1000;

/**
 * The idle timer guards a request body that stops coming. Most requests have
 * ended within a few milliseconds (every unary call and Subscribe), and a
 * reader that stops reading a live stream is the slow-subscriber cut-off's
 * to judge, so a new stream gets no timer at first: once within
 * min(1 s, requestIdleMs) the streams whose request is still open get one
 * (so a silent body is reset between requestIdleMs and twice that, at most
 * 1 s later). Node keeps a stream's timer and its listeners for the
 * stream's life even once stopped: about 0.8 KiB per idle Subscribe stream,
 * measured with bench/stream-heap.ts.
 */
function watchRequestIdle(requestIdleMs: number): (stream: http2.ServerHttp2Stream) => void {
  const young = new Set<http2.ServerHttp2Stream>();
  let timer: NodeJS.Timeout | undefined;
  const look = () => {
    timer = undefined;
    for (const stream of young) {
      if (!stream.destroyed && !stream.readableEnded) {
        stream.setTimeout(requestIdleMs);
        stream.on("timeout", resetIdleStream);
        stream.on("end", stopIdleTimer);
      }
    }
    young.clear();
  };
  return (stream) => {
    young.add(stream);
    if (timer === undefined) {
      timer = setTimeout(look, Math.min(FIRST_LOOK_MS, requestIdleMs));
      timer.unref();
    }
  };
}

/** Once the request has ended the timer has nothing left to guard. Shared functions with `this`: nothing per stream. */
function stopIdleTimer(this: http2.ServerHttp2Stream): void {
  this.setTimeout(0);
}

function resetIdleStream(this: http2.ServerHttp2Stream): void {
  if (!this.destroyed) this.close(http2.constants.NGHTTP2_CANCEL);
}
