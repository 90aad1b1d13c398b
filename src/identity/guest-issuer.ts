import { createHash, randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { checkAuthor } from "../limits.js";
import type { GuestNames } from "../store/guest-names.js";
import { SCOPES } from "./identity.js";
import { type IssuedToken, signToken, tokenExpiryMs } from "./sign-token.js";

/** The `iss` of guest tokens, so they are told apart from the operator's. */
export const GUEST_ISSUER = "parley-guest";

/** The longest guest_key a Login may show (the contract's limit). */
export const GUEST_KEY_MAX_CHARS = 128;

/** What a GuestIssuer signs with and where it keeps names. */
export interface GuestIssuerOptions {
  /** The HS256 secret guest tokens are signed with. */
  secret: Uint8Array;
  /** Lifetime of a token, in seconds. */
  ttlS: number;
  /** How long a name stays held for its key after its last use, in ms. */
  holdMs: number;
  /** How long past its exp the verifier still takes a token (the clock skew), in seconds. */
  clockSkewS: number;
  /** The store's guest names (shared by every node on a shared store). */
  names: GuestNames;
  /** Whether a live member (a subscriber) uses a name. */
  isLiveMember: (name: string) => boolean;
  /** The clock (tests fix it). */
  now?: () => number;
}

/** A guest login's answer: the token, and the key to keep ("" when renewed with a token alone). */
export interface GuestLogin extends IssuedToken {
  guestKey: string;
}

/**
 * Guest logins: a short-lived token for a display name nobody else holds,
 * and a key that gets the name back later (see Login in the proto). Only the
 * key's sha256 is stored, so the store's contents sign in nobody. The
 * decision is the store's (GuestNames.claim), one atomic step even when
 * several nodes share it.
 */
export class GuestIssuer {
  private readonly now: () => number;

  constructor(private readonly options: GuestIssuerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A token for `rawName`; `renewing` is the caller's current identity's subject, if any. */
  async login(
    rawName: string,
    guestKey: string,
    renewing: string | undefined,
  ): Promise<GuestLogin> {
    const name = rawName.trim();
    const problem = checkAuthor(name);
    if (problem !== undefined) throw new ConnectError(`name: ${problem}`, Code.InvalidArgument);
    if (guestKey.length > GUEST_KEY_MAX_CHARS) {
      throw new ConnectError(
        `guest_key: must be at most ${GUEST_KEY_MAX_CHARS} characters (got ${guestKey.length})`,
        Code.InvalidArgument,
      );
    }
    const nowMs = this.now();
    const expiresAtMs = tokenExpiryMs(nowMs, this.options.ttlS);
    // The name is held while its token is still taken, exp plus the clock skew:
    // released at exp, a second guest could hold it while the first still posts as it.
    const usableUntilMs = expiresAtMs + this.options.clockSkewS * 1000;
    const freshKey = randomBytes(32).toString("base64url");
    const outcome = await this.options.names.claim({
      name,
      shownKeyHash: guestKey === "" ? "" : hashKey(guestKey),
      renewing: renewing === name,
      inUse: this.options.isLiveMember(name),
      freshKeyHash: hashKey(freshKey),
      nowMs,
      tokenUntilMs: usableUntilMs,
      holdMs: this.options.holdMs,
    });
    if (outcome === "held") {
      throw new ConnectError(
        `name: "${name}" is in use by another guest; pick another name`,
        Code.AlreadyExists,
      );
    }
    const issued = await signToken(
      this.options.secret,
      { sub: name, name, scopes: [SCOPES.read, SCOPES.write], issuer: GUEST_ISSUER },
      this.options.ttlS,
      nowMs,
    );
    const key = outcome === "claimed" ? freshKey : outcome === "reclaimed" ? guestKey : "";
    return { ...issued, guestKey: key };
  }
}

/** The form a guest key is stored in: sha256, hex. */
function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}
