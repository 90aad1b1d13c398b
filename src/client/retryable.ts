import { Code, type ConnectError } from "@connectrpc/connect";

/**
 * Whether a failed call may be tried again without the caller deciding:
 * the server is going away or restarting (UNAVAILABLE, or an HTTP/2 stream
 * refused after GOAWAY, which connect-node reports as INTERNAL), the
 * subscriber was too slow (RESOURCE_EXHAUSTED: resume loses nothing), the
 * connection broke (UNKNOWN, ABORTED, or CANCELED: connect-node reports a
 * stream reset by a dying connection that way), or the stream went silent
 * (DEADLINE_EXCEEDED from our heartbeat watchdog). The caller's own abort is
 * checked before this is asked.
 */
export function isRetryable(error: ConnectError): boolean {
  switch (error.code) {
    case Code.Canceled:
    case Code.Unavailable:
    case Code.ResourceExhausted:
    case Code.Unknown:
    case Code.Aborted:
    case Code.DeadlineExceeded:
      return true;
    case Code.Internal:
      return /REFUSED_STREAM|ECONNRESET|socket hang up|premature close/i.test(error.rawMessage);
    default:
      return false;
  }
}
