import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";

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
      if (!known.has(req.service)) {
        // The protocol: SERVICE_UNKNOWN, and keep the call open in case the
        // service appears (here it never does; the call ends with the server).
        yield { status: Status.SERVICE_UNKNOWN };
      } else {
        const first = current();
        yield { status: first };
        if (first === Status.SERVING) {
          await untilAborted(ctx.signal);
          // ctx.signal also aborts when the client goes away or its deadline
          // passes; only a shutdown is a change of status worth sending.
          if (shutdownSignal.aborted) yield { status: Status.NOT_SERVING };
        }
      }
      await untilAborted(ctx.signal);
      throw ConnectError.from(ctx.signal.reason);
    },

    list() {
      const status = current();
      return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
    },
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}
