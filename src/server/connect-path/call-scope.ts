import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { type CallInfo, protocolOf } from "../../calls/call-info.js";
import type { CallScope } from "../../calls/method-core.js";
import { callInfoOf } from "../edge/call-info.js";
import { CallSignal } from "../edge/call-signal.js";

/** Where the connect path's request handler leaves each call's CallInfo for its handler. */
export const callInfoKey = createContextKey<CallInfo | undefined>(undefined, {
  description: "parley call info",
});

/**
 * A core's scope for a connect-node call: the CallInfo the edge made (or, for
 * a router used in-process without the edge, one made from the context), and
 * a CallSignal that aborts with the call's own signal (client gone, deadline),
 * with server shutdown, or by stop(). Shutdown is not given to connect-node's
 * own shutdownSignal option: that links every call to the shared signal with
 * a listener of its own (src/server/edge/shutdown-watch.ts says why not).
 */
export function connectScope(ctx: HandlerContext, shutdownSignal: AbortSignal) {
  const signal = new CallSignal(shutdownSignal);
  signal.follow(ctx.signal);
  const scope: CallScope = {
    call: ctx.values.get(callInfoKey) ?? infoFromContext(ctx),
    signal: signal.signal,
  };
  return {
    scope,
    /** Abort the scope (the consumer stopped) and drop the links; call once the call is over. */
    stop(reason?: unknown) {
      signal.abort(reason ?? new Error("the call is over"));
      signal.release();
    },
  };
}

/** A CallInfo for a handler reached without the edge (createRouterTransport in tests). */
function infoFromContext(ctx: HandlerContext): CallInfo {
  return callInfoOf({
    method: ctx.method,
    ...protocolOf(
      ctx.requestHeader.get("content-type") ?? "",
      ctx.requestMethod === "GET" ? new URL(ctx.url).searchParams.get("encoding") : null,
    ),
    adapter: "connect",
    peer: "in-process",
    header: (name) => ctx.requestHeader.get(name) ?? undefined,
    timeoutMs: ctx.timeoutMs(),
    requestId: "in-process",
  });
}
