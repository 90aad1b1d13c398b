import { Code, ConnectError } from "@connectrpc/connect";
import {
  createGuestTokens,
  createParleyClient,
  fileGuestKeys,
  type GuestToken,
  type GuestTokens,
  type ParleyClient,
  type Protocol,
  type TokenSource,
} from "../client/index.js";
import { savedGuestToken, saveGuestToken } from "./guest-cache.js";

/** Where the token of this run came from, for the advice printed with an auth error. */
const state: {
  given: "--token" | "PARLEY_TOKEN" | undefined;
  /** Login's refusal when the server hands out no guest tokens (jwt or off). */
  loginOff: string | undefined;
  guest: string | undefined;
} = { given: undefined, loginOff: undefined, guest: undefined };

/** What `parley login` and the automatic guest login need of the server. */
export interface Server {
  url: string;
  protocol: Protocol;
}

/** A client without a token, for Login. */
export function loginClient(server: Server): ParleyClient {
  return createParleyClient({
    baseUrl: server.url,
    protocol: server.protocol,
    failFastWhenUnreachable: true,
  });
}

/**
 * One Login as guest `name`, showing `token` (to renew) and the name's saved
 * key (to get the name back); saves the token and any key it answers.
 */
async function loginAs(server: Server, name: string, token: string | undefined) {
  const keys = fileGuestKeys();
  const guestKey = keys.get(server.url, name);
  const got = await loginClient(server).login(name, { token, guestKey });
  saveGuestToken(server.url, name, got);
  if (got.guestKey !== "") keys.set(server.url, got.subject, got.guestKey);
  return got;
}

/**
 * Log in as guest `name`, showing the saved token for that name (if any) so
 * the server lets its holder renew it, and the name's key, so the name comes
 * back after a restart or with the token expired; saves both.
 */
export async function guestLogin(server: Server, name: string): Promise<GuestToken> {
  return loginAs(server, name, savedGuestToken(server.url, name)?.token);
}

/** A command's token, and what to do when the server refuses it. */
export interface CommandToken {
  token: TokenSource;
  /** Log in again after a refusal (a guest's); undefined for a given token. */
  onTokenRefused?: (token: string | undefined) => Promise<unknown>;
}

/**
 * The token a command sends. Given (--token or PARLEY_TOKEN): that one.
 * Otherwise the CLI logs in as guest `name` before the first call, so that
 * `parley send` just works against a guest server, and renews while a
 * stream lasts; logging in first, rather than after an UNAUTHENTICATED,
 * means a stream (listen, chat) never has to be sent twice. A server that
 * hands out no guest tokens (jwt or off) answers Login FAILED_PRECONDITION:
 * then no token is sent, which an `--auth off` server takes and a jwt
 * server refuses, with advice (authAdvice).
 */
export function tokenFor(
  server: Server,
  name: string,
  given: { token: string; from: "--token" | "PARLEY_TOKEN" } | undefined,
): CommandToken {
  if (given !== undefined) {
    state.given = given.from;
    return { token: given.token };
  }
  let guest: GuestTokens | undefined;
  let off = false;
  const token = async () => {
    if (off) return undefined;
    if (guest !== undefined) return guest.token();
    try {
      const first = await guestLogin(server, name);
      state.guest = name;
      guest = createGuestTokens({
        name,
        initial: first,
        login: (n, current) => loginAs(server, n, current),
      });
      return first.token;
    } catch (error) {
      const e = ConnectError.from(error);
      if (e.code !== Code.FailedPrecondition) throw e;
      off = true;
      state.loginOff = e.rawMessage;
      return undefined;
    }
  };
  // A refused guest token (a server restarted with another secret): log in
  // again with the name's key, once per refusal (the client repeats the call).
  const onTokenRefused = async (refused: string | undefined) => {
    if (guest !== undefined) await guest.refused(refused);
  };
  return { token, onTokenRefused };
}

const MINT = "an operator mints one with `parley token --sub NAME --secret-file FILE`";

/** A line of advice for an auth error, naming what to do; undefined for other errors. */
export function authAdvice(error: ConnectError): string | undefined {
  if (error.code === Code.Unauthenticated) {
    if (state.given !== undefined) {
      return `the token from ${state.given} was refused: get a fresh one (\`parley login --as NAME\` on a guest server; on a jwt server from your identity system, or ${MINT})`;
    }
    if (state.loginOff !== undefined) {
      return `this server needs a token and hands out no guest tokens (${state.loginOff}): pass --token TOKEN or set PARLEY_TOKEN; ${MINT}`;
    }
    if (state.guest !== undefined) {
      return `the guest token of "${state.guest}" was refused; run the command again to log in afresh`;
    }
  }
  if (error.code === Code.PermissionDenied && state.given !== undefined) {
    return `the token from ${state.given} does not allow this (its sub, scope and rooms claims decide); --as must be its subject or left out`;
  }
  if (
    error.code === Code.AlreadyExists &&
    state.guest === undefined &&
    /^name:/.test(error.rawMessage)
  ) {
    return "pick another name with --as (or PARLEY_AUTHOR), or pass your own token with --token";
  }
  if (error.code === Code.FailedPrecondition && error.rawMessage.startsWith("Login is off")) {
    return error.rawMessage.includes("--auth jwt")
      ? `use a token from your identity system with --token or PARLEY_TOKEN; ${MINT}`
      : "this server checks no tokens: commands work without one";
  }
  return undefined;
}
