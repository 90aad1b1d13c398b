import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import type { GuestKeyStore } from "./guest-keys.js";
import { createGuestTokens, type GuestTokens, type GuestTokensOptions } from "./guest-tokens.js";
import {
  createParleyClientWith,
  type ParleyClient,
  type ParleyClientCoreOptions,
} from "./parley-client.js";
import { ownAuthorization, type TokenSource, tokenInterceptor } from "./token.js";

/** How a client logs in as a guest: the name, or the name with tuning. */
export type GuestOption = string | Omit<GuestTokensOptions, "login">;

/** The token options every platform's createParleyClient takes. */
export interface TokenOptions {
  /**
   * The token sent as `authorization: Bearer …` on every call: a string, or
   * a function asked before each call and each reconnect (to renew).
   */
  token?: TokenSource;
  /**
   * Log in as this guest (a server with `--auth guest`) on the first call,
   * and renew the token before it expires. Every Login shows the name's key
   * from the guest key store and saves the key it answers, so the client
   * keeps the name across its own and the server's restarts. A call whose
   * token is refused logs in again (once) and is repeated once. Not with `token`.
   */
  guest?: GuestOption;
  /**
   * With `token` a function: called with a token the server refused
   * (UNAUTHENTICATED); get a fresh one for the function to return, and the
   * call is repeated once when this resolves. (A `guest` client does this
   * by itself.)
   */
  onTokenRefused?: (token: string | undefined) => Promise<unknown>;
}

/** A Parley client; `guest` holds its guest tokens when it logs in as one. */
export interface ParleyTokenClient extends ParleyClient {
  /** The guest tokens (current token, expiry, stop()), when `guest` was given. */
  readonly guest: GuestTokens | undefined;
}

/** What clientWithTokens needs besides the token options. */
export interface TokenClientOptions
  extends Omit<ParleyClientCoreOptions, "transport">,
    TokenOptions {
  /** The server's base URL: guest keys are kept per server. */
  baseUrl: string;
  /** Where guest keys are kept (the platform's default already chosen); undefined: nowhere. */
  guestKeyStore: GuestKeyStore | undefined;
}

/**
 * A Parley client whose calls carry the token `options` name (none, a fixed
 * one, a function, or a guest's, renewed), over the transport `transportWith`
 * makes from the interceptors to put first.
 */
export function clientWithTokens(
  options: TokenClientOptions,
  transportWith: (interceptors: Interceptor[]) => Transport,
): ParleyTokenClient {
  if (options.token !== undefined && options.guest !== undefined) {
    throw new TypeError("createParleyClient: give token or guest, not both");
  }
  const keys = options.guestKeyStore;
  // The client is made after the token source, which needs its login; the
  // source asks for it only when a call is made, by when it exists.
  let client: ParleyClient | undefined;
  const guest =
    options.guest === undefined
      ? undefined
      : createGuestTokens({
          ...(typeof options.guest === "string" ? { name: options.guest } : options.guest),
          login: async (name, current, signal) => {
            if (client === undefined) throw new Error("the client is not made yet");
            const guestKey = keys?.get(options.baseUrl, name);
            const token = await client.login(name, { token: current, guestKey, signal });
            if (token.guestKey !== "") keys?.set(options.baseUrl, token.subject, token.guestKey);
            return token;
          },
        });
  const source = guest?.token ?? options.token;
  const interceptors: Interceptor[] = source === undefined ? [] : [tokenInterceptor(source)];
  const onTokenRefused =
    guest === undefined ? options.onTokenRefused : (token?: string) => guest.refused(token);
  if (onTokenRefused !== undefined) interceptors.unshift(repeatOnceRefused(onTokenRefused));
  client = createParleyClientWith({
    ...options,
    onTokenRefused,
    transport: transportWith(interceptors),
  });
  return { ...client, guest };
}

/**
 * Unary calls whose token is refused (UNAUTHENTICATED: the server restarted
 * with a new secret, or the token lapsed) get a fresh one and are sent once
 * more; a second refusal is the caller's. Streams are repeated by the
 * subscription, which knows when that is safe.
 */
function repeatOnceRefused(
  onTokenRefused: (token: string | undefined) => Promise<unknown>,
): Interceptor {
  return (next) => async (req) => {
    if (req.stream || req.contextValues.get(ownAuthorization)) return next(req);
    try {
      return await next(req);
    } catch (error) {
      const failure = ConnectError.from(error);
      if (failure.code !== Code.Unauthenticated || req.signal.aborted) throw error;
      const sent = /^Bearer +(\S+)/i.exec(req.header.get("authorization") ?? "")?.[1];
      await onTokenRefused(sent);
      return next(req);
    }
  };
}
