import { Code, ConnectError } from "@connectrpc/connect";
import { checkAuthor } from "../limits.js";
import { SCOPES } from "./identity.js";
import { type IssuedToken, signToken } from "./sign-token.js";

/** The `iss` of guest tokens, so they are told apart from the operator's. */
export const GUEST_ISSUER = "parley-guest";

/**
 * Guest logins: a short-lived token for a display name nobody else holds.
 * A name is held while a live member uses it (`isLiveMember`) or while a
 * token issued for it has not expired; the holder of that token may renew
 * it. Holds are this process's: several nodes sharing guests need a shared
 * `--auth-secret-file` and hand out names each on its own (README).
 */
export class GuestIssuer {
  private readonly held = new Map<string, number>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly ttlS: number,
    private readonly isLiveMember: (name: string) => boolean,
  ) {}

  /** A token for `name`; `renewing` is the caller's current identity's subject, if any. */
  async login(rawName: string, renewing: string | undefined): Promise<IssuedToken> {
    const name = rawName.trim();
    const problem = checkAuthor(name);
    if (problem !== undefined) throw new ConnectError(`name: ${problem}`, Code.InvalidArgument);
    const now = Date.now();
    if (renewing !== name) {
      const heldUntil = this.held.get(name);
      if ((heldUntil !== undefined && heldUntil > now) || this.isLiveMember(name)) {
        throw new ConnectError(
          `name: "${name}" is in use by another guest; pick another name`,
          Code.AlreadyExists,
        );
      }
    }
    const issued = await signToken(
      this.secret,
      { sub: name, name, scopes: [SCOPES.read, SCOPES.write], issuer: GUEST_ISSUER },
      this.ttlS,
      now,
    );
    this.held.set(name, issued.expiresAtMs);
    this.forgetExpired(now);
    return issued;
  }

  private forgetExpired(now: number): void {
    if (this.held.size < 1024) return;
    for (const [name, until] of this.held) if (until <= now) this.held.delete(name);
  }
}
