import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";
import { connectScope } from "../connect-path/call-scope.js";
import type { ServingState } from "./serving-state.js";

/** How often a Watch stream looks at the state again (a store can go and come back). */
const WATCH_POLL_MS = 250;

/**
 * The grpc.health.v1.Health handlers. The server reports itself ("") and each
 * of `services` SERVING while `state` says so: NOT_SERVING once
 * `shutdownSignal` aborts (for good) and while the message store is
 * unreachable (until it is back). Watch streams announce each change, and
 * end through the call's CallSignal, as every streaming call does: with the
 * shutdown error once the server stops, DEADLINE_EXCEEDED at the deadline,
 * CANCELED when the client goes.
 */
export function createHealthService(
  services: readonly string[],
  shutdownSignal: AbortSignal,
  state: ServingState,
): ServiceImpl<typeof Health> {
  const known = new Set(["", ...services]);
  const current = () => (state() === undefined ? Status.SERVING : Status.NOT_SERVING);
  return {
    check(req) {
      if (!known.has(req.service)) {
        throw new ConnectError(
          `service: unknown service "${req.service}"; this server reports ${[...known].map((s) => JSON.stringify(s)).join(", ")}`,
          Code.NotFound,
        );
      }
      return { status: current() };
    },

    async *watch(req, ctx) {
      // The call's one signal, as every streaming call has it: it aborts when
      // the client goes away, the deadline passes or the server shuts down.
      const { scope, stop } = connectScope(ctx, shutdownSignal);
      const { signal } = scope;
      try {
        if (!known.has(req.service)) {
          // The protocol: SERVICE_UNKNOWN, and keep the call open in case the
          // service appears (here it never does; the call ends with the server).
          yield { status: Status.SERVICE_UNKNOWN };
          await abortedOrAfter(signal);
        } else {
          let last = current();
          yield { status: last };
          while (!signal.aborted) {
            await abortedOrAfter(signal, WATCH_POLL_MS);
            // Shutdown is announced (NOT_SERVING) before the call ends; a
            // client gone or past its deadline has nobody left to tell.
            const now = current();
            if (now !== last && !ctx.signal.aborted) {
              last = now;
              yield { status: now };
            }
          }
        }
        throw ConnectError.from(signal.reason);
      } finally {
        stop();
      }
    },

    list() {
      const status = current();
      return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
    },
  };
}

/** Resolves when `signal` aborts, or once `pollMs` has passed when given. */
function abortedOrAfter(signal: AbortSignal, pollMs?: number): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    if (pollMs !== undefined) timer = setTimeout(done, pollMs);
  });
}
