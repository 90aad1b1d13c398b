import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { ServingState } from "./serving-state.js";

/** A plain Node request handler, as connectNodeAdapter calls its `fallback`. */
type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

/** The plain HTTP health check path, for load balancers and orchestrators. */
export const HEALTHZ_PATH = "/healthz";

/**
 * The handler for every request no RPC route matches (connectNodeAdapter's
 * `fallback`): `GET /healthz` answers 200 "ok" while serving, and 503 with
 * the reason once shutdown has begun or while the message store is
 * unreachable, so a balancer sends new work elsewhere; anything else is 404,
 * as without a fallback.
 */
export function healthzFallback(state: ServingState): NodeHandlerFn {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== HEALTHZ_PATH) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(res, 405, `${HEALTHZ_PATH} answers GET and HEAD, not ${req.method}\n`, {
        allow: "GET, HEAD",
      });
      return;
    }
    const notServing = state();
    const body = `${notServing ?? "ok"}\n`;
    reply(res, notServing === undefined ? 200 : 503, req.method === "HEAD" ? "" : body, {
      "content-length": String(Buffer.byteLength(body)),
    });
  };
}

function reply(
  res: Parameters<NodeHandlerFn>[1],
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(body);
}
