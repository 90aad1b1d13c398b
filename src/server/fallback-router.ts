import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

/** A plain Node request handler, as connectNodeAdapter calls its `fallback`. */
export type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

/** A plain HTTP route of the server: requests whose path `matches` go to `handle`. */
export interface HttpRoute {
  matches(path: string): boolean;
  handle: NodeHandlerFn;
}

/**
 * The handler for every request no RPC matches (connectNodeAdapter's
 * `fallback`): the first route whose `matches` accepts the path (without the
 * query) handles it; none: 404.
 */
export function fallbackRouter(routes: readonly HttpRoute[]): NodeHandlerFn {
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const route = routes.find((r) => r.matches(path));
    if (route) {
      route.handle(req, res);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end();
  };
}
