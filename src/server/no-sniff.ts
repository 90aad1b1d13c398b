import type { RequestHandler } from "./one-port.js";

/** The header that stops browsers guessing a content type other than the one sent. */
export const NO_SNIFF = { name: "x-content-type-options", value: "nosniff" } as const;

/**
 * Send `X-Content-Type-Options: nosniff` on every response `handler` gives:
 * RPCs on each protocol, the SSE stream, health checks and 404s. A browser
 * then never runs an RPC answer or an error page as script or style because
 * its bytes look like one. Set before the handler runs, so writeHead (which
 * merges headers already set) keeps it; the direct gRPC path, which bypasses
 * this handler, sends NO_SNIFF itself.
 */
export function withNoSniff(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    res.setHeader(NO_SNIFF.name, NO_SNIFF.value);
    return handler(req, res);
  };
}
