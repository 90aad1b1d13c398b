import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelay } from "../../src/client/backoff.js";
import { isRetryable } from "../../src/client/retryable.js";
import type { AuthMode } from "./auth-mode.js";
import { savedGuestKey, saveGuestKey } from "./saved-guest-key.js";
import { saveToken } from "./saved-token.js";
import { readClaims } from "./token-claims.js";

/** Why a session ended: the page shows it and offers to log in again. */
export interface SessionEnd {
  kind: "refused" | "denied" | "expired";
  /** The name the session spoke for. */
  name: string;
  /** The sentence the page shows. */
  detail: string;
}

/** Login as the page calls it (through the transport, so a held token goes along). */
export type LoginCall = (
  request: { name: string; guestKey: string },
  timeoutMs: number,
) => Promise<{ token: string; guestKey: string }>;

/** The longest a renewal attempt may wait for an answer. */
const LOGIN_TIMEOUT_MS = 10_000;

/**
 * The page's sign-in: the token its calls carry (see authInterceptor), who it
 * speaks for, and, for guests, its renewal before it expires: Login again for
 * the same name with the token, which guest-issuer.ts lets the holder do.
 * Open subscriptions are unaffected, since the server checks a token when a
 * call starts. Every Login sends the guest key kept for the name (see
 * saved-guest-key.ts), so a guest whose token is refused (a server restarted
 * with another secret) logs in again by itself, once, as the same name
 * (recover). A refusal that cannot be recovered, or a renewal that cannot
 * happen in time, ends the session once (onEnded), and no call goes out
 * with its token after that.
 */
export class AuthSession {
  /** Unknown until detected; calls pass untouched meanwhile. */
  mode: AuthMode | undefined;
  onEnded: (end: SessionEnd) => void = () => undefined;
  /** In mode off, a call was refused UNAUTHENTICATED: the server checks tokens after all. */
  onChecksOn: () => void = () => undefined;
  /** The token and its name; fromRecovery until a call with it succeeds. */
  private held: { token: string; subject: string; fromRecovery: boolean } | undefined;
  /** The Login that replaces a refused token, while it runs. */
  private recovery: Promise<boolean> | undefined;
  private generation = 0;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly login: LoginCall) {}

  /** The token calls carry now, if signed in. */
  get token(): string | undefined {
    return this.held?.token;
  }

  /** The name the token speaks for, if signed in. */
  get subject(): string | undefined {
    return this.held?.subject;
  }

  /**
   * Log in as a guest (or renew `previousToken`'s name: it goes along as
   * the bearer token). Resolves with the subject; throws Login's error
   * (ALREADY_EXISTS when another guest holds the name).
   */
  async logIn(name: string, previousToken?: string): Promise<string> {
    this.stop();
    if (previousToken !== undefined) {
      this.held = { token: previousToken, subject: name, fromRecovery: false };
    }
    try {
      return await this.loginAs(name, LOGIN_TIMEOUT_MS, false);
    } catch (error) {
      this.held = undefined;
      throw error;
    }
  }

  /** Resolves once no recovery runs (calls wait for it rather than go out with a refused token). */
  async settled(): Promise<void> {
    await this.recovery;
  }

  /** A call with `token` succeeded: the token is good (a later refusal may be recovered again). */
  confirmed(token: string): void {
    if (this.held?.token === token) this.held.fromRecovery = false;
  }

  /**
   * A call carrying `token` was refused UNAUTHENTICATED. A guest logs in
   * again as the same name with its kept guest key, once per refusal (a
   * token from a recovery that is refused before any call with it succeeded
   * is not recovered again). Resolves true when the session holds a good
   * token to retry with; false once the session has ended (onEnded).
   */
  recover(token: string, error: ConnectError, method: string): Promise<boolean> {
    if (this.recovery !== undefined) return this.recovery;
    const held = this.held;
    if (held === undefined) return Promise.resolve(false);
    if (held.token !== token) return Promise.resolve(true); // already replaced (renewed or recovered)
    if (this.mode !== "guest" || held.fromRecovery) {
      this.refused(error, method);
      return Promise.resolve(false);
    }
    const name = held.subject;
    this.stop();
    const recovery = this.loginAs(name, LOGIN_TIMEOUT_MS, true).then(
      () => true,
      (loginError: unknown) => {
        const failure = ConnectError.from(loginError);
        const why =
          failure.code === Code.AlreadyExists
            ? `another guest holds the name ${name} now`
            : failure.rawMessage;
        this.end({
          kind: "refused",
          name,
          detail: `The server no longer accepts the sign-in of ${name} (${error.rawMessage}), and logging in again failed: ${why}`,
        });
        return false;
      },
    );
    this.recovery = recovery;
    void recovery.finally(() => {
      if (this.recovery === recovery) this.recovery = undefined;
    });
    return recovery;
  }

  /** Use a token from the operator (jwt mode); throws when it is not a JWT with a subject. */
  adopt(token: string): string {
    this.stop();
    return this.hold(token.trim(), false);
  }

  /** A call carrying the token was refused for good: end the session with the server's reason. */
  refused(error: ConnectError, method: string): void {
    const name = this.held?.subject;
    if (name === undefined) return;
    this.end(
      error.code === Code.PermissionDenied
        ? {
            kind: "denied",
            name,
            detail: `The server does not allow ${method} for ${name}: ${error.rawMessage}`,
          }
        : {
            kind: "refused",
            name,
            detail: `The server no longer accepts the sign-in of ${name}: ${error.rawMessage}`,
          },
    );
  }

  /** Sign out without a reason to show (a new name is being chosen). */
  stop(): void {
    this.generation++;
    clearTimeout(this.renewTimer);
    this.held = undefined;
  }

  private end(end: SessionEnd): void {
    this.stop();
    saveToken(undefined);
    this.onEnded(end);
  }

  /** Login as `name` with the key kept for it; keep the key it answers and hold the token. */
  private async loginAs(name: string, timeoutMs: number, fromRecovery: boolean): Promise<string> {
    const answer = await this.login({ name, guestKey: savedGuestKey(name) ?? "" }, timeoutMs);
    const subject = this.hold(answer.token, true, fromRecovery);
    saveGuestKey(subject, answer.guestKey);
    return subject;
  }

  private hold(token: string, renewable: boolean, fromRecovery = false): string {
    const claims = readClaims(token);
    if (claims === undefined) {
      throw new ConnectError("this is not a token: a JWT with a sub claim", Code.InvalidArgument);
    }
    this.held = { token, subject: claims.sub, fromRecovery };
    saveToken(token);
    if (renewable && claims.iat !== undefined && claims.exp !== undefined) {
      // Measured on the server's clock (exp - iat) and counted from now, so a
      // browser whose clock is off still renews in time.
      const lifetimeMs = (claims.exp - claims.iat) * 1000;
      const generation = this.generation;
      const expiresAt = Date.now() + lifetimeMs;
      this.renewTimer = setTimeout(
        () => void this.renew(generation, claims.sub, expiresAt, 0),
        Math.max(1000, lifetimeMs / 2),
      );
    }
    return claims.sub;
  }

  /** Login again as `name` until it works, the token expires, or the server says no. */
  private async renew(generation: number, name: string, expiresAt: number, attempt: number) {
    let failure: ConnectError;
    try {
      const left = expiresAt - Date.now();
      const answer = await this.login(
        { name, guestKey: savedGuestKey(name) ?? "" },
        Math.max(1000, Math.min(LOGIN_TIMEOUT_MS, left)),
      );
      if (generation === this.generation) {
        this.hold(answer.token, true);
        saveGuestKey(name, answer.guestKey);
      }
      return;
    } catch (error) {
      failure = ConnectError.from(error);
    }
    if (generation !== this.generation) return;
    const delayMs = backoffDelay(attempt, { initialDelayMs: 250, maxDelayMs: 5000 });
    const transient = isRetryable(failure) || failure.code === Code.DeadlineExceeded;
    if (transient && Date.now() + delayMs < expiresAt) {
      this.renewTimer = setTimeout(
        () => void this.renew(generation, name, expiresAt, attempt + 1),
        delayMs,
      );
      return;
    }
    this.end({
      kind: "expired",
      name,
      detail: transient
        ? `The sign-in of ${name} expired: the server could not be reached to renew it.`
        : `The sign-in of ${name} expired and could not be renewed: ${failure.rawMessage}`,
    });
  }
}
