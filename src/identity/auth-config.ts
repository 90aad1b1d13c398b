import { LIMITS } from "../limits.js";
import type { UserLimitOptions } from "./user-limits.js";

/** Who may call: how tokens are checked and what each user may do. */
export interface AuthConfig {
  /**
   * guest: Login hands out short-lived tokens for free names; jwt: tokens
   * come from the operator's identity system (Login is off); off: no tokens
   * are checked and any caller may speak as anyone (development only).
   */
  mode: "guest" | "jwt" | "off";
  /** An HS256 secret, the file's bytes (guest: optional; without it one kept beside the store's data). */
  secretFile: string | undefined;
  /** Public keys to verify tokens with: a JWKS file, or an https:// URL serving one. */
  jwks: string | undefined;
  /** When set, tokens must carry this `iss` (guest tokens are always accepted by their own). */
  issuer: string | undefined;
  /** When set, tokens must carry this `aud`. */
  audience: string | undefined;
  /** Lifetime of a guest token, in seconds. */
  guestTokenTtlS: number;
  /** How long a guest name stays held for its key after its last use, in days. */
  guestNameHoldDays: number;
  /** How far a token's exp and nbf may be off the server's clock, in seconds. */
  clockSkewS: number;
  /** Per-user rates and caps. */
  limits: UserLimitOptions;
  /** The most participants one conversation may have, its opener included. */
  conversationMaxParticipants: number;
}

/** The defaults the flags show: guest logins, so a server anyone can reach is never open. */
export const AUTH_DEFAULTS: AuthConfig = {
  mode: "guest",
  secretFile: undefined,
  jwks: undefined,
  issuer: undefined,
  audience: undefined,
  guestTokenTtlS: 900,
  guestNameHoldDays: 30,
  clockSkewS: 30,
  limits: {
    sends: { perSecond: 10, burst: 30 },
    // The web app alone opens up to 25 joins at load (24 followed rooms and
    // the open room's Chat) and holds 26 streams (plus its Echo probe); a
    // person with two tabs must fit, so the burst and the cap leave room for
    // that, and the rate still stops a client that rejoins in a loop.
    joins: { perSecond: 5, burst: 40 },
    typing: { perSecond: 5, burst: 10 },
    maxStreams: 64,
  },
  conversationMaxParticipants: LIMITS.conversationParticipantsDefault,
};

/** No identity checks: what a server started in-process without an AuthConfig gets. */
export const NO_AUTH: AuthConfig = { ...AUTH_DEFAULTS, mode: "off" };
