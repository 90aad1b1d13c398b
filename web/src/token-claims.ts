/** What the page reads from a token it holds (the server alone verifies it). */
export interface TokenClaims {
  /** The author the token speaks for. */
  sub: string;
  /** Issued at and expires, in seconds since the epoch, when the token says. */
  iat: number | undefined;
  exp: number | undefined;
}

/**
 * The claims in a JWT's payload, or undefined when `token` is not a JWT with
 * a `sub`. Read only to know the name and when to renew: trusting them for
 * anything else would be pointless, since the page cannot check a signature.
 */
export function readClaims(token: string): TokenClaims | undefined {
  const payload = token.trim().split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== "object" || claims === null) return undefined;
    const { sub, iat, exp } = claims as Record<string, unknown>;
    if (typeof sub !== "string" || sub.trim() === "") return undefined;
    return {
      sub: sub.trim(),
      iat: typeof iat === "number" ? iat : undefined,
      exp: typeof exp === "number" ? exp : undefined,
    };
  } catch {
    return undefined;
  }
}
