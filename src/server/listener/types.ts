import type * as http from "node:http";
import type * as http2 from "node:http2";
import type * as net from "node:net";

/** A request handler both HTTP versions accept (connect-node's adapter is one). */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Takes an HTTP/2 stream and answers it, or declines (false) and leaves it untouched. */
export type Http2StreamTaker = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) => boolean;

/**
 * Takes an HTTP/1.1 upgrade request (a WebSocket handshake) and the socket
 * under it, or declines (false): the request is then served as a plain one.
 */
export type UpgradeTaker = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => boolean;

/**
 * The listener's timeouts and caps, each a server flag (the Config carries
 * them as the flags set them); one left undefined takes its default.
 */
export interface ListenerLimits {
  /**
   * A new connection must show its protocol within this long: the whole
   * HTTP/2 preface or the first bytes of an HTTP/1.1 request in cleartext,
   * the TLS handshake with TLS. Default 10 s.
   */
  sniffTimeoutMs?: number | undefined;
  /** HTTP/1.1: a request whose headers are not all in within this long is answered 408. Default 60 s. */
  headersTimeoutMs?: number | undefined;
  /** HTTP/1.1: a request not wholly in (headers and body) within this long is answered 408. Default 300 s. */
  requestTimeoutMs?: number | undefined;
  /**
   * A request or stream that moves no byte either way for this long is ended
   * (HTTP/1.1: its connection; HTTP/2: the stream, RST_STREAM CANCEL, watched
   * from up to 1 s after it opens and only while its request is still open).
   * A request body that never comes ends so; live streams stay busy with
   * their heartbeats, so this must exceed the heartbeat interval. Default 60 s.
   */
  requestIdleMs?: number | undefined;
  /** HTTP/2: a connection with no open stream for this long is closed (GOAWAY). Default 120 s. */
  idleConnectionMs?: number | undefined;
  /**
   * HTTP/2: concurrent streams per connection, advertised in SETTINGS.
   * Clients queue their streams beyond it; one that opens more anyway breaks
   * the protocol, and nghttp2 ends its connection with GOAWAY. Default 1000.
   */
  maxStreamsPerConnection?: number | undefined;
  /**
   * Open connections in all; one more is answered 503 (HTTP/1.1) or
   * GOAWAY(REFUSED_STREAM) with the reason, and closed. Default 10,000.
   */
  maxConnections?: number | undefined;
  /**
   * Open connections from one client address; one more is answered 429
   * (HTTP/1.1) or GOAWAY(ENHANCE_YOUR_CALM) with the reason, and closed.
   * Default: no cap (the server's flag sets 1000).
   */
  maxConnectionsPerAddress?: number | undefined;
  /**
   * HTTP/2: streams one client address may reset (RST_STREAM before the
   * server ended them) per 10 s, across all its connections and
   * reconnections; past it the connection gets GOAWAY(ENHANCE_YOUR_CALM) and
   * the address's new connections are refused so for 10 s (reset-budget.ts).
   * Default: no budget (the server's flag sets 1000).
   */
  maxResetsPerAddress?: number | undefined;
}

/** Where and how to listen. */
export interface ListenOptions extends ListenerLimits {
  port: number;
  /** Interface to bind; undefined binds all (IPv6 and IPv4 where available). */
  host?: string | undefined;
  /** PEM certificate and key files; both or neither. */
  tls?: { certFile: string; keyFile: string } | undefined;
  /**
   * Ping every HTTP/2 connection this often; one that has not answered the
   * previous ping by the next is dead (the peer vanished without closing)
   * and is destroyed, which ends its streams.
   */
  pingIntervalMs: number;
  /**
   * Offered every HTTP/2 stream first; a stream it declines goes to `handler`
   * through Node's HTTP/2 compatibility API.
   */
  takeHttp2Stream?: Http2StreamTaker;
  /** Offered every HTTP/1.1 upgrade request; one it declines is served as a plain request. */
  takeUpgrade?: UpgradeTaker;
  /**
   * Told of an exception a handler (or takeHttp2Stream) threw; its request
   * was answered 500 and the server goes on. Default: printed to stderr.
   */
  onHandlerError?: ((error: unknown) => void) | undefined;
}

/** A listening one-port server. */
export interface OnePortServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** "http" or "https". */
  readonly scheme: "http" | "https";
  /** Connections currently open. */
  readonly openConnections: number;
  /** Stop accepting new connections; open ones stay. */
  stopAccepting(): void;
  /** Ask every connection to finish: GOAWAY to HTTP/2 sessions, close HTTP/1.1 connections once idle. */
  drain(): void;
  /** Destroy every connection still open. */
  destroyAll(): void;
}
