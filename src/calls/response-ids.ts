import type { CallInfo } from "./call-info.js";
import { traceparentOf } from "./trace-context.js";

/**
 * The response headers that tell a client which call this was: its request
 * id (the one in the server's log lines), and its trace context when the
 * client sent one. Every adapter answers with them, refusals included, so
 * a person holding a response can find its log line.
 */
export function responseIds(call: CallInfo): Record<string, string> {
  const ids: Record<string, string> = { "x-request-id": call.requestId };
  if (call.trace !== undefined) ids.traceparent = traceparentOf(call.trace);
  return ids;
}

/** The header names responseIds() may set, for CORS to expose to pages. */
export const RESPONSE_ID_HEADERS = ["x-request-id", "traceparent"] as const;
