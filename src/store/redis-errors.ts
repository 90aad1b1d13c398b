import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Replies Redis gives while it cannot serve (still loading its data, a
 * cluster without a quorum or mid-failover, a replica after a failover):
 * the call may succeed if repeated later.
 */
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY)\b/;

/** Errors ioredis raises when it has no working connection for a command. */
function isConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    error.name === "MaxRetriesPerRequestError" ||
    error.name === "ClusterAllFailedError" ||
    (typeof code === "string" && /^E[A-Z]+$/.test(code)) ||
    /Connection is closed|Command timed out|Stream isn't writeable|Failed to refresh slots cache|None of startup nodes is available/.test(
      error.message,
    )
  );
}

/**
 * The error a store call answers with when Redis failed it: UNAVAILABLE,
 * naming the server and the reason, when Redis is unreachable or not
 * serving; INTERNAL for any other Redis error. `what` says what was being
 * done ("append to room x").
 */
export function redisCallError(error: unknown, where: string, what: string): ConnectError {
  if (error instanceof ConnectError) return error;
  if (!(error instanceof Error)) return new ConnectError(String(error), Code.Internal);
  if (isConnectionError(error) || TRANSIENT_REPLY.test(error.message)) {
    const reason = error.name === "MaxRetriesPerRequestError" ? "no connection" : error.message;
    return new ConnectError(
      `message store unavailable: ${where} could not ${what} (${reason}); retry shortly`,
      Code.Unavailable,
      undefined,
      undefined,
      error,
    );
  }
  return new ConnectError(
    `message store error: ${where} failed to ${what}: ${error.message}`,
    Code.Internal,
    undefined,
    undefined,
    error,
  );
}
