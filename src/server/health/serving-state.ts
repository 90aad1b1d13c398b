/** Why the server does not take new work now; undefined while it does. */
export type NotServing = "shutting down" | "message store unreachable";

/** The server's health at this moment, for gRPC health and `GET /healthz`. */
export type ServingState = () => NotServing | undefined;

/**
 * Health as a balancer needs it: not serving once shutdown has begun, nor
 * while the message store cannot be reached (a Redis store whose server is
 * down: every call would answer UNAVAILABLE, so another node should take
 * them). `storeServing` is the store's own view, true for embedded stores.
 */
export function servingState(
  shutdownSignal: AbortSignal,
  storeServing: () => boolean = () => true,
): ServingState {
  return () => {
    if (shutdownSignal.aborted) return "shutting down";
    if (!storeServing()) return "message store unreachable";
    return undefined;
  };
}
