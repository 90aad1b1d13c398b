import { SignJWT } from "jose";

/** A token handed out, as Login answers it. */
export interface IssuedToken {
  token: string;
  subject: string;
  scopes: string[];
  expiresAtMs: number;
}

/**
 * When a token signed at `nowMs` for `ttlS` expires, ms since the epoch. A
 * JWT's exp is whole seconds; the expiry reported beside the token is that
 * same second, never the unrounded instant up to 999 ms later, or a client
 * renewing just before the reported expiry would send a token the server
 * already refuses.
 */
export function tokenExpiryMs(nowMs: number, ttlS: number): number {
  return Math.floor((nowMs + ttlS * 1000) / 1000) * 1000;
}

/** Sign an HS256 token (guest tokens, and `parley token` for scripts and tests). */
export async function signToken(
  secret: Uint8Array,
  claims: {
    sub: string;
    scopes: readonly string[];
    name?: string;
    rooms?: readonly string[];
    issuer?: string;
  },
  ttlS: number,
  nowMs = Date.now(),
): Promise<IssuedToken> {
  const expiresAtMs = tokenExpiryMs(nowMs, ttlS);
  const expSeconds = expiresAtMs / 1000;
  const payload: Record<string, unknown> = { scope: claims.scopes.join(" ") };
  if (claims.name !== undefined) payload.name = claims.name;
  if (claims.rooms !== undefined) payload.rooms = [...claims.rooms];
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(expSeconds);
  if (claims.issuer !== undefined) jwt = jwt.setIssuer(claims.issuer);
  return {
    token: await jwt.sign(secret),
    subject: claims.sub,
    scopes: [...claims.scopes],
    expiresAtMs,
  };
}
