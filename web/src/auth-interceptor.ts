import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { AuthSession } from "./auth-session.js";

/**
 * Carries the session's token as `authorization: Bearer …` on every call,
 * and tells the session when a call carrying it is refused
 * (UNAUTHENTICATED or PERMISSION_DENIED, whether the refusal comes as the
 * answer or, for a stream, while reading it). Where the server checks
 * tokens and the page holds none (or its session ended), calls other than
 * Login fail here, without going out: nothing keeps knocking with a token
 * the server has refused.
 */
export function authInterceptor(session: AuthSession): Interceptor {
  return (next) => async (req) => {
    const mode = session.mode;
    if (mode === undefined || mode === "off") return next(req);
    const token = session.token;
    if (token === undefined) {
      if (req.method.name !== "Login") {
        throw new ConnectError(`${req.method.name}: not signed in`, Code.Unauthenticated);
      }
      return next(req);
    }
    req.header.set("authorization", `Bearer ${token}`);
    const report = (error: unknown) => {
      const failure = ConnectError.from(error);
      // Only a refusal of the token the page still holds ends the session (not one of a token already replaced).
      if (isRefusal(failure) && session.token === token) session.refused(failure, req.method.name);
      return failure;
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (error) {
      throw report(error);
    }
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (error) {
          throw report(error);
        }
      })(),
    };
  };
}

function isRefusal(error: ConnectError): boolean {
  return error.code === Code.Unauthenticated || error.code === Code.PermissionDenied;
}
