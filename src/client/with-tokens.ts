import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGuestTokens, type GuestTokens, type GuestTokensOptions } from "./guest-tokens.js";
import {
  createParleyClientWith,
  type ParleyClient,
  type ParleyClientCoreOptions,
} from "./parley-client.js";
import { type TokenSource, tokenInterceptor } from "./token.js";

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
   * and renew the token before it expires. Not with `token`.
   */
  guest?: GuestOption;
}

/** A Parley client; `guest` holds its guest tokens when it logs in as one. */
export interface ParleyTokenClient extends ParleyClient {
  /** The guest tokens (current token, expiry, stop()), when `guest` was given. */
  readonly guest: GuestTokens | undefined;
}

/**
 * A Parley client whose calls carry the token `options` name (none, a fixed
 * one, a function, or a guest's, renewed), over the transport `transportWith`
 * makes from the interceptors to put first.
 */
export function clientWithTokens(
  options: Omit<ParleyClientCoreOptions, "transport"> & TokenOptions,
  transportWith: (interceptors: Interceptor[]) => Transport,
): ParleyTokenClient {
  if (options.token !== undefined && options.guest !== undefined) {
    throw new TypeError("createParleyClient: give token or guest, not both");
  }
  // The client is made after the token source, which needs its login; the
  // source asks for it only when a call is made, by when it exists.
  let client: ParleyClient | undefined;
  const guest =
    options.guest === undefined
      ? undefined
      : createGuestTokens({
          ...(typeof options.guest === "string" ? { name: options.guest } : options.guest),
          login: (name, current, signal) => {
            if (client === undefined) throw new Error("the client is not made yet");
            return client.login(name, { token: current, signal });
          },
        });
  const source = guest?.token ?? options.token;
  const interceptors: Interceptor[] = source === undefined ? [] : [tokenInterceptor(source)];
  client = createParleyClientWith({ ...options, transport: transportWith(interceptors) });
  return { ...client, guest };
}
