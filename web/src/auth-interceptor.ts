import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { AuthSession } from "./auth-session.js";

/**
 * Carries the session's token as `authorization: Bearer …` on every call,
 * and tells the session when a call carrying it is refused (whether the
 * refusal comes as the answer or, for a stream, while reading it).
 *
 * UNAUTHENTICATED (a server restarted with another secret, say) first asks
 * the session to recover: a guest logs in again by itself as the same name.
 * Then a unary call is sent once more with the new token, and a stream
 * fails as UNAVAILABLE, which the client library's resuming subscribe
 * retries from its last seq: no signed-out screen, no gap. Calls wait while
 * that Login runs. PERMISSION_DENIED, or a refusal that cannot be recovered,
 * ends the session. Where the server checks tokens and the page holds none
 * (or its session ended), calls other than Login fail here, without going
 * out: nothing keeps knocking with a token the server has refused.
 */
export function authInterceptor(session: AuthSession): Interceptor {
  return (next) => async (req) => {
    const mode = session.mode;
    if (mode === undefined) return next(req);
    if (mode === "off") return passOff(session, next, req);
    const isLogin = req.method.name === "Login";
    if (!isLogin) await session.settled();
    const token = session.token;
    if (token === undefined) {
      if (!isLogin) {
        throw new ConnectError(`${req.method.name}: not signed in`, Code.Unauthenticated);
      }
      return next(req);
    }
    req.header.set("authorization", `Bearer ${token}`);
    /** Whether the session now holds a good token for the call to go again with. */
    const recovered = async (failure: ConnectError): Promise<boolean> => {
      if (failure.code === Code.PermissionDenied) {
        // Only a refusal of the token the page still holds ends the session (not one of a token already replaced).
        if (session.token === token) session.refused(failure, req.method.name);
        return false;
      }
      return (
        failure.code === Code.Unauthenticated &&
        !isLogin &&
        (await session.recover(token, failure, req.method.name))
      );
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (error) {
      const failure = ConnectError.from(error);
      if (!(await recovered(failure))) throw failure;
      if (req.stream) throw signedInAgain(failure);
      const retry = session.token;
      if (retry === undefined) throw failure;
      req.header.set("authorization", `Bearer ${retry}`);
      return next(req);
    }
    if (!res.stream) {
      session.confirmed(token);
      return res;
    }
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          for await (const message of messages) {
            session.confirmed(token);
            yield message;
          }
        } catch (error) {
          const failure = ConnectError.from(error);
          throw (await recovered(failure)) ? signedInAgain(failure) : failure;
        }
      })(),
    };
  };
}

/** Mode off: calls go out untouched; one refused UNAUTHENTICATED says the server checks tokens now. */
async function passOff(
  session: AuthSession,
  next: Parameters<Interceptor>[0],
  req: Parameters<ReturnType<Interceptor>>[0],
) {
  try {
    return await next(req);
  } catch (error) {
    const failure = ConnectError.from(error);
    if (failure.code === Code.Unauthenticated && session.mode === "off") session.onChecksOn();
    throw failure;
  }
}

/** A stream refused for a token the session has since replaced: retryable, from where it was. */
function signedInAgain(cause: ConnectError): ConnectError {
  return new ConnectError(
    `signed in again after: ${cause.rawMessage}`,
    Code.Unavailable,
    undefined,
    undefined,
    cause,
  );
}
