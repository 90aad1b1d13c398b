import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";
import { unwatchShutdown, watchShutdown } from "../workarounds/shutdown-watch.js";

/**
 * The grpc.health.v1.Health handlers. The server reports itself ("") and each
 * of `services` SERVING until `shutdownSignal` aborts, NOT_SERVING from then
 * on: that is the only change of status, and Watch streams announce it before
 * they end with the shutdown error.
 */
export function createHealthService(
  services: readonly string[],
  shutdownSignal: AbortSignal,
): ServiceImpl<typeof Health> {
  const known = new Set(["", ...services]);
  const current = () => (shutdownSignal.aborted ? Status.NOT_SERVING : Status.SERVING);
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
        const first = current();
        yield { status: first };
        if (first === Status.SERVING) {
          ending = await callOrShutdown(ctx.signal, shutdownSignal);
          // The call also ends when the client goes away or its deadline
          // passes; only a shutdown is a change of status worth sending.
          if (shutdownSignal.aborted) yield { status: Status.NOT_SERVING };
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

/** The reason of whichever ends first: the call (its own signal) or the server (shutdown). */
function callOrShutdown(call: AbortSignal, shutdown: AbortSignal): Promise<unknown> {
  if (call.aborted) return Promise.resolve(call.reason);
  return new Promise((resolve) => {
    const onShutdown = (reason: unknown) => {
      call.removeEventListener("abort", onCall);
      resolve(reason);
    };
    const onCall = () => {
      unwatchShutdown(shutdown, onShutdown);
      resolve(call.reason);
    };
    call.addEventListener("abort", onCall, { once: true });
    watchShutdown(shutdown, onShutdown);
  });
}
