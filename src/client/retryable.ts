import { Code, type ConnectError } from "@connectrpc/connect";

/**
 * Node error codes (connect-node keeps the Node error as the ConnectError's
 * cause) that mean the connection failed or broke before the server gave an
 * answer: nothing the server decided, so sending again is the only way to learn it.
 */
const BROKEN_CONNECTION = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
]);

/**
 * The messages of the TypeError that fetch() throws when the network fails
 * (connect-web passes it on as UNKNOWN): Chromium, Firefox, WebKit, undici.
 * fetch has no error code, so the message is all there is.
 */
const FETCH_NETWORK_ERRORS = new Set([
  "Failed to fetch",
  "network error",
  "NetworkError when attempting to fetch resource.",
  "Load failed",
  "The Internet connection appears to be offline.",
  "fetch failed",
  "terminated",
]);

/**
 * What connect-web throws when a response body ends before the server's
 * status (end-stream message or trailers): the connection was cut mid-stream.
 */
const CUT_MID_STREAM = new Set(["missing EndStreamResponse", "missing trailer"]);

/**
 * What connect-node reports when a response ends before the server's status
 * arrived: HAProxy 2.6 ends its clients' HTTP/2 streams that way when the
 * node serving them dies (docs/scale-out.md#haproxy). No server sent these;
 * the server decided nothing the client saw.
 */
const ENDED_WITHOUT_STATUS = new Set([
  "protocol error: missing status",
  "protocol error: missing trailer",
  "protocol error: missing EndStreamResponse",
]);

/** The error and its causes, outermost first (bounded: a cause may loop). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 8 && !chain.includes(e); ) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

/**
 * An HTTP/2 stream the server reset with REFUSED_STREAM (what a server does
 * with calls that arrive after its GOAWAY): by the protocol, never processed.
 * connect-node reports it as INTERNAL with Node's stream error as cause.
 */
function refusedStream(e: unknown): boolean {
  return (
    nodeCode(e) === "ERR_HTTP2_STREAM_ERROR" &&
    e instanceof Error &&
    e.message.endsWith("NGHTTP2_REFUSED_STREAM")
  );
}

/** True when the call failed because nothing listens at the server's address. */
export function connectionRefused(error: ConnectError): boolean {
  return causes(error.cause).some((e) => nodeCode(e) === "ECONNREFUSED");
}

/**
 * True when the call failed in the client's own transport (the connection
 * was refused, reset, or cut mid-response, or the stream was refused)
 * rather than with a status the server sent. A server's INTERNAL or UNKNOWN
 * carries no such cause.
 */
export function connectionFailed(error: ConnectError): boolean {
  return causes(error.cause).some(
    (e) =>
      BROKEN_CONNECTION.has(nodeCode(e) ?? "") ||
      refusedStream(e) ||
      (e instanceof TypeError && FETCH_NETWORK_ERRORS.has(e.message)) ||
      (typeof e === "string" && CUT_MID_STREAM.has(e)),
  );
}

function nodeCode(e: unknown): string | undefined {
  return e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
}

/**
 * Whether a failed call may be sent again without the caller deciding (the
 * caller's own abort is checked before this is asked). Safe to retry:
 *
 * - UNAVAILABLE: the server is starting, restarting or shutting down, or
 *   nothing answered (connection refused, an HTTP/2 stream refused after
 *   GOAWAY). Send carries an idempotency key and Subscribe resumes from the
 *   last seq, so a second attempt stores or delivers nothing twice.
 * - CANCELED that the caller did not ask for: connect-node reports an HTTP/2
 *   stream torn down with its connection (a server killed, a proxy gone) as
 *   CANCEL, with no status from the server.
 * - any code whose cause is a broken connection or a refused stream
 *   (connectionFailed): over HTTP/1.1 connect-node reports a reset as
 *   ABORTED, an HTTP/2 REFUSED_STREAM as INTERNAL, and fetch a network
 *   failure as UNKNOWN.
 * - a response that ended without the server's status (gRPC's "missing
 *   status", gRPC-Web's "missing trailer", Connect's "missing
 *   EndStreamResponse"): a proxy cut the stream short, e.g. HAProxy when
 *   the node behind it was killed.
 *
 * Not retried:
 *
 * - INTERNAL and UNKNOWN sent by the server: a bug or a failing store. The
 *   same request fails the same way, and retrying multiplies the load on a
 *   server that is already failing (a client used to send 8 calls for each).
 * - DEADLINE_EXCEEDED: the caller's time budget is spent; another attempt
 *   would overrun it. (Subscribe's own silence watchdog is not this: the
 *   subscription recognises its own abort and reconnects.)
 * - ABORTED from the server: gRPC's meaning is "retry the whole
 *   read-modify-write at a higher level", which is the caller's to decide.
 * - RESOURCE_EXHAUSTED: for Send it is a limit the request broke (size,
 *   rate); only Subscribe retries it, and only as a slow-subscriber cut-off
 *   (after `ready`, so the resume point is known).
 * - UNAUTHENTICATED and PERMISSION_DENIED: the token is missing, refused
 *   or expired, or does not allow this. The same token is refused again, and
 *   a new one is the caller's to get (a guest token source renews before
 *   expiry, so the next call or reconnect carries the new token).
 * - everything else (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
 *   OUT_OF_RANGE, …): the request itself is wrong, and stays wrong.
 */
export function isRetryable(error: ConnectError): boolean {
  switch (error.code) {
    // Said by the server's auth policy, never by a broken connection.
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return false;
    case Code.Unavailable:
    case Code.Canceled:
      return true;
    default:
      return connectionFailed(error) || ENDED_WITHOUT_STATUS.has(error.rawMessage);
  }
}
