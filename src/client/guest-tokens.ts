/** A guest token, as Login hands it out. */
export interface GuestToken {
  /** The JWT to send as `authorization: Bearer <token>`. */
  token: string;
  /** The name it speaks for (its `sub`): the only author its holder may use. */
  subject: string;
  /** What it allows: chat:read and chat:write. */
  scopes: string[];
  /** When the server stops accepting it. */
  expiresAt: Date;
  /**
   * The key that gets the name back in later Logins (see GuestKeyStore), when
   * this Login claimed the name or showed its key; "" when it renewed with a
   * token alone.
   */
  guestKey: string;
}

/** Options of createGuestTokens. */
export interface GuestTokensOptions {
  /** The display name to log in as. */
  name: string;
  /**
   * One Login call: `current` is the token to renew (sent as the call's
   * authorization, so the server lets its holder keep the name), undefined
   * for a first login. `signal` aborts a renewal that has not answered by
   * the time the current token expires (a stalled connection must not hold
   * every later call). Usually
   * `(name, current, signal) => parley.login(name, { token: current, signal })`.
   */
  login: (name: string, current: string | undefined, signal?: AbortSignal) => Promise<GuestToken>;
  /**
   * Renew this long before the token expires (default a third of its
   * lifetime, at most 60 s: 60 s before the end of the server's default
   * 15 minutes).
   */
  renewBeforeMs?: number;
  /** A token already held (one saved from an earlier run), used until it is due for renewal. */
  initial?: GuestToken;
  /** Called with every token obtained, first login and renewals. */
  onLogin?: (token: GuestToken) => void;
}

/** A guest's tokens: logged in once, renewed before each expires. */
export interface GuestTokens {
  /** The name logged in as. */
  readonly name: string;
  /**
   * The token to send now (a TokenSource): logs in on first use, renews
   * when the token is due, and shares one Login among concurrent callers.
   */
  readonly token: () => Promise<string>;
  /** The token held now, if any. */
  readonly current: GuestToken | undefined;
  /**
   * The server refused `token` (UNAUTHENTICATED: a restart with a new
   * secret, say): log in afresh, without it, and resolve with the new token.
   * When `token` was already replaced, resolves with the current one instead
   * of logging in again; concurrent callers share one Login.
   */
  refused(token: string | undefined): Promise<string>;
  /** Stop renewing in the background (token() still logs in or renews when asked). */
  stop(): void;
}

/** The longest margin before expiry at which a token is renewed by default. */
const MAX_RENEW_BEFORE_MS = 60_000;
/**
 * After a failed background renewal, try again this often while the token
 * lasts (sooner when less than four times this is left, so that a short
 * token still gets several tries before it lapses).
 */
const RETRY_MS = 2_000;
/** The shortest wait before a renewal is retried. */
const MIN_RETRY_MS = 50;

/**
 * Guest tokens that stay fresh. A subscription's open stream never asks for
 * a token again, but its next reconnect does, and by then an old token may
 * have expired; renewing in the background before expiry, with the token
 * still good, is what lets the server know the caller as the name's holder
 * (a lapsed token would have to log in afresh, and a name still in use by
 * the subscription's own member would be refused). The timer does not keep
 * Node running.
 */
export function createGuestTokens(options: GuestTokensOptions): GuestTokens {
  let current = options.initial;
  let renewAtMs = current === undefined ? 0 : renewAt(current, Date.now());
  let pending: Promise<GuestToken> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  function renewAt(token: GuestToken, receivedAtMs: number): number {
    const expiresAtMs = token.expiresAt.getTime();
    const margin =
      options.renewBeforeMs ??
      Math.min(MAX_RENEW_BEFORE_MS, Math.max(0, expiresAtMs - receivedAtMs) / 3);
    return expiresAtMs - margin;
  }

  function schedule(atMs: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(background, Math.max(0, atMs - Date.now()));
    // Node: a token nobody waits for must not keep the process alive.
    (timer as { unref?: () => void }).unref?.();
  }

  function background(): void {
    refresh().catch(() => {
      // Kept quiet: the next call that needs a token tries again and fails
      // with the reason. Meanwhile retry while the token still lasts.
      const leftMs = (current?.expiresAt.getTime() ?? 0) - Date.now();
      const retryMs = Math.max(MIN_RETRY_MS, Math.min(RETRY_MS, leftMs / 4));
      if (retryMs < leftMs) schedule(Date.now() + retryMs);
    });
  }

  function refresh(): Promise<GuestToken> {
    pending ??= (async () => {
      try {
        const now = Date.now();
        // A token that still works renews the name; a lapsed one cannot.
        const renewing =
          current !== undefined && current.expiresAt.getTime() > now ? current.token : undefined;
        // A renewal may wait at most until the token it renews lapses: after
        // that it could no longer renew, and a fresh login is the next step.
        const signal =
          renewing === undefined
            ? undefined
            : AbortSignal.timeout(Math.max(1, (current?.expiresAt.getTime() ?? now) - now));
        const next = await options.login(options.name, renewing, signal);
        current = next;
        renewAtMs = renewAt(next, now);
        schedule(renewAtMs);
        options.onLogin?.(next);
        return next;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  }

  if (current !== undefined) schedule(renewAtMs);

  return {
    name: options.name,
    async token() {
      if (pending !== undefined) return (await pending).token;
      if (current !== undefined && Date.now() < renewAtMs) return current.token;
      return (await refresh()).token;
    },
    get current() {
      return current;
    },
    async refused(token) {
      if (pending !== undefined) return (await pending).token;
      if (current !== undefined && token !== undefined && current.token !== token) {
        return current.token;
      }
      // The refused token must not be shown again: it renews nothing.
      current = undefined;
      return (await refresh()).token;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
