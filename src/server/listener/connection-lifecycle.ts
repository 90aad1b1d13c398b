import type * as http from "node:http";
import type * as http2 from "node:http2";
import type * as net from "node:net";
import { trackIdleHttp1 } from "./http1-idle.js";
import { trackAnsweredHttp2Streams } from "./http2-answered-streams.js";
import type { Http2Idle } from "./http2-idle.js";
import { pingSessions } from "./ping-sessions.js";

/** What the lifecycle needs to know about each connection, from accept to close. */
export interface ConnectionLifecycle {
  /** A connection was accepted (before its protocol is known). */
  accepted(socket: net.Socket): void;
  /** A connection's protocol is known: it goes to the HTTP/2 or the HTTP/1.1 server. */
  handedOver(socket: net.Socket, isH2: boolean): void;
  /** An HTTP/1.1 connection was upgraded: draining leaves it to whoever took it. */
  upgraded(socket: net.Socket): void;
  /** Connections currently open. */
  readonly open: number;
  /** Close connections still showing their protocol, HTTP/2 sessions once their streams have closed, HTTP/1.1 connections once idle. */
  drain(): void;
  /** Destroy every connection still open. */
  destroyAll(): void;
  /** Stop the timers (once the listener has closed). */
  stop(): void;
}

/**
 * Track every connection of the two servers: sessions and their streams for
 * draining, HTTP/1.1 requests for closing when idle, pings for HTTP/2
 * sessions whose peer vanished.
 */
export function connectionLifecycle(
  h1: http.Server,
  h2: http2.Http2Server,
  h2Idle: Http2Idle,
  pingIntervalMs: number,
): ConnectionLifecycle {
  const sockets = new Set<net.Socket>();
  // Keyed by peer address and port, the same for a TLS socket and the TCP
  // socket under it (accepted() sees the one, handedOver() the other).
  const sniffing = new Map<string, net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const h2Streams = trackAnsweredHttp2Streams();
  const h1Idle = trackIdleHttp1(h1);
  // Shared 'close' listeners (`this` is the socket or session): a closure per
  // connection would stay for the life of every idle connection.
  const trackSocket = tracker(sockets);
  const trackSession = tracker(sessions);
  function stopSniffing(this: net.Socket) {
    sniffing.delete(peer(this));
  }
  h2.on("session", (s: http2.ServerHttp2Session) => trackSession(s));
  h2.on("stream", (stream: http2.ServerHttp2Stream) => h2Streams.add(stream));
  const pinger = pingSessions(sessions, pingIntervalMs);
  return {
    accepted(socket) {
      trackSocket(socket);
      socket.setKeepAlive(true, 30_000);
      sniffing.set(peer(socket), socket);
      // peer() reads the address Node cached at accept, so it is the same at close.
      socket.once("close", stopSniffing);
    },
    handedOver(socket, isH2) {
      sniffing.delete(peer(socket));
      if (!isH2) h1Idle.add(socket);
    },
    upgraded(socket) {
      h1Idle.forget(socket);
    },
    get open() {
      return sockets.size;
    },
    drain() {
      // Nothing was asked of these yet, so nothing is cut short.
      for (const socket of sniffing.values()) socket.destroy();
      h2Idle.drain(sessions);
      h2Streams.closeAnswered();
      h1Idle.closeWhenIdle();
    },
    destroyAll() {
      for (const s of sessions) s.destroy();
      for (const socket of sockets) socket.destroy();
    },
    stop() {
      clearInterval(pinger);
    },
  };
}

function peer(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** Keep each item in `set` until it closes, with one listener function for all of them. */
function tracker<T extends { once(event: "close", fn: (this: T) => void): unknown }>(
  set: Set<T>,
): (item: T) => void {
  function forget(this: T) {
    set.delete(this);
  }
  return (item) => {
    set.add(item);
    item.once("close", forget);
  };
}
