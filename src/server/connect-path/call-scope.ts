import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { type CallInfo, protocolOf } from "../../calls/call-info.js";
import type { CallScope } from "../../calls/method-core.js";
import { unwatchShutdown, watchShutdown } from "../workarounds/shutdown-watch.js";

/** Where the connect path's request handler leaves each call's CallInfo for its handler. */
export const callInfoKey = createContextKey<CallInfo | undefined>(undefined, {
  description: "parley call info",
});

/**
 * A core's scope for a connect-node call: the CallInfo the edge made (or, for
 * a router used in-process without the edge, one made from the context), and
 * a signal that aborts with the call's own, with server shutdown, or by
 * stop(). Shutdown is followed through watchShutdown: connect's own
 * shutdownSignal option links every call to the shared signal with a
 * listener of its own, which made each call's start and end walk the list of
 * every open call (src/server/workarounds/README.md).
 */
export function connectScope(ctx: HandlerContext, shutdownSignal: AbortSignal) {
  const controller = new AbortController();
  const stop = (reason?: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onCallAbort = () => stop(ctx.signal.reason);
  const onShutdown = (reason: unknown) => stop(reason);
  if (ctx.signal.aborted) onCallAbort();
  else ctx.signal.addEventListener("abort", onCallAbort, { once: true });
  watchShutdown(shutdownSignal, onShutdown);
  const scope: CallScope = {
    call: ctx.values.get(callInfoKey) ?? infoFromContext(ctx),
    signal: controller.signal,
  };
  return {
    scope,
    /** Abort the scope (the consumer stopped) and drop the links; call once the call is over. */
    stop(reason?: unknown) {
      stop(reason ?? new Error("the call is over"));
      ctx.signal.removeEventListener("abort", onCallAbort);
      unwatchShutdown(shutdownSignal, onShutdown);
    },
  };
}

/** A CallInfo for a handler reached without the edge (createRouterTransport in tests). */
function infoFromContext(ctx: HandlerContext): CallInfo {
  const { protocol, encoding } = protocolOf(
    ctx.requestHeader.get("content-type") ?? "",
    ctx.requestMethod === "GET" ? new URL(ctx.url).searchParams.get("encoding") : null,
  );
  const timeoutMs = ctx.timeoutMs();
  return {
    method: ctx.method,
    protocol,
    encoding,
    path: "connect",
    peer: "in-process",
    header: (name) => ctx.requestHeader.get(name) ?? undefined,
    deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
    requestId: "in-process",
    startedAt: performance.now(),
    values: new Map(),
  };
}
