import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The error a client is told for whatever a call threw: a ConnectError as it
 * is; anything else (a bug, a store driver's failure) as INTERNAL "internal
 * error", its text kept out of the answer and carried as `cause` for the log.
 * connect-node answers a handler's plain Error the same way on every protocol.
 */
export function callError(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  return new ConnectError("internal error", Code.Internal, undefined, undefined, reason);
}
