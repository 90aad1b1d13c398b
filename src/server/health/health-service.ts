import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";
import { unwatchShutdown, watchShutdown } from "../edge/shutdown-watch.js";
import type { ServingState } from "./serving-state.js";

/** How often a Watch stream looks at the state again (a store can go and come back). */
const WATCH_POLL_MS = 250;

/**
 * The grpc.health.v1.Health handlers. The server reports itself ("") and each
 * of `services` SERVING while `state` says so: NOT_SERVING once
 * `shutdownSignal` aborts (for good) and while the message store is
 * unreachable (until it is back). Watch streams announce each change, and
 * end with the shutdown error once the server stops.
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
      let ending: unknown;
      if (!known.has(req.service)) {
        // The protocol: SERVICE_UNKNOWN, and keep the call open in case the
        // service appears (here it never does; the call ends with the server).
        yield { status: Status.SERVICE_UNKNOWN };
      } else {
        let last = current();
        yield { status: last };
        for (;;) {
          ending = await callOrShutdown(ctx.signal, shutdownSignal, WATCH_POLL_MS);
          // The call also ends when the client goes away or its deadline
          // passes: then there is nobody to tell.
          if (ctx.signal.aborted) break;
          const now = current();
          if (now !== last) {
            last = now;
            yield { status: now };
          }
          if (shutdownSignal.aborted) break;
        }
      }
      ending ??= await callOrShutdown(ctx.signal, shutdownSignal);
      throw ConnectError.from(ending);
    },

    list() {
      const status = current();
      return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
    },
  };
}

/**
 * The reason of whichever ends first: the call (its own signal) or the server
 * (shutdown); undefined when `pollMs` passes first.
 */
function callOrShutdown(
  call: AbortSignal,
  shutdown: AbortSignal,
  pollMs?: number,
): Promise<unknown> {
  if (call.aborted) return Promise.resolve(call.reason);
  if (shutdown.aborted) return Promise.resolve(shutdown.reason);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (reason: unknown) => {
      clearTimeout(timer);
      call.removeEventListener("abort", onCall);
      unwatchShutdown(shutdown, onShutdown);
      resolve(reason);
    };
    const onShutdown = (reason: unknown) => done(reason);
    const onCall = () => done(call.reason);
    call.addEventListener("abort", onCall, { once: true });
    watchShutdown(shutdown, onShutdown);
    if (pollMs !== undefined) timer = setTimeout(() => done(undefined), pollMs);
  });
}
