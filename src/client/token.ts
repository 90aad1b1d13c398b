import { createContextKey, type Interceptor } from "@connectrpc/connect";

/**
 * Where a client's token comes from: the token itself, or a function asked
 * before every call (so a caller can renew: each call, and each reconnect of
 * a subscription, takes whatever it returns then). A function that returns
 * undefined sends no token, for a server that checks none (`--auth off`).
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/**
 * Marks a call that carries its own authorization (Login, which sends the
 * token it renews, or none): the token interceptor leaves it alone. Without
 * this a guest token source renewing itself would wait on its own renewal.
 */
export const ownAuthorization = createContextKey(false, {
  description: "the call sets its own authorization header",
});

/**
 * A connect interceptor that sends `authorization: Bearer <token>` on every
 * call, asking `source` each time. Give it to any connect transport
 * (connect-node or connect-web): `interceptors: [tokenInterceptor(source)]`.
 */
export function tokenInterceptor(source: TokenSource): Interceptor {
  return (next) => async (req) => {
    if (!req.contextValues.get(ownAuthorization)) {
      const token = typeof source === "string" ? source : await source();
      if (token !== undefined && token !== "") {
        req.header.set("authorization", `Bearer ${token}`);
      }
    }
    return next(req);
  };
}
