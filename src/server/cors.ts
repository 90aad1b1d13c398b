import { cors as connectCors } from "@connectrpc/connect";
import corsMiddleware from "cors";
import { RESPONSE_ID_HEADERS } from "../calls/response-ids.js";
import type { RequestHandler } from "./one-port.js";

/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE_S = 2 * 60 * 60;

/**
 * Let pages from `origins` call every RPC and the SSE endpoint: answer CORS
 * preflights, and mark responses to allowed origins, with Connect's own lists
 * of the methods, request headers and response headers its protocols use,
 * plus Authorization (the bearer token every call carries on a server that
 * checks tokens), Last-Event-ID (which EventSource sends when it
 * reconnects), and the trace and request ids a page may send and read back
 * (traceparent, tracestate, X-Request-Id; tracestate is allowed so a page's
 * tracing library is not refused, and is ignored). "*" allows any origin. No origins: `handler` unchanged, and browsers keep the
 * same-origin rule.
 */
export function withCors(origins: readonly string[], handler: RequestHandler): RequestHandler {
  if (origins.length === 0) return handler;
  const middleware = corsMiddleware({
    origin: origins.includes("*") ? "*" : [...origins],
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [
      ...connectCors.allowedHeaders,
      "Authorization",
      "Last-Event-ID",
      "traceparent",
      "tracestate",
      "X-Request-Id",
    ],
    exposedHeaders: [...connectCors.exposedHeaders, ...RESPONSE_ID_HEADERS],
    maxAge: PREFLIGHT_MAX_AGE_S,
  });
  return (req, res) => {
    // cors uses only setHeader, statusCode and end, which both HTTP versions' responses have.
    middleware(req as never, res as never, () => handler(req, res));
  };
}
