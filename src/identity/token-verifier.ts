import { Code, ConnectError } from "@connectrpc/connect";
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { checkAuthor } from "../limits.js";
import type { Identity } from "./identity.js";
import { TokenCache } from "./token-cache.js";

/** Where a verifier gets its keys, and what else it checks. */
export interface VerifierKeys {
  /** An HS256 secret (guest tokens, `parley token`, operators who share a secret). */
  secret?: Uint8Array | undefined;
  /** Public keys (a JWKS file or URL): RS256, ES256, EdDSA and the like. */
  jwks?: JWTVerifyGetKey | undefined;
  /** The `iss` every token must carry, when set. */
  issuer?: string | undefined;
  /** The `aud` every token must carry, when set. */
  audience?: string | undefined;
  /** How far a token's exp and nbf may be off the server's clock (s). */
  clockSkewS: number;
}

/** Asymmetric algorithms accepted from a JWKS; HMAC ones only with the secret, never from a JWKS (algorithm confusion). */
const PUBLIC_KEY_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];

/** Verified tokens kept at most (a token's entry goes when it expires). */
const CACHE_ENTRIES = 50_000;
/** How long a verified token is trusted without verifying it again, at most. */
const CACHE_MS = 5 * 60_000;

/**
 * A token verifier: the token's signature (HS256 with the secret, or a key of
 * the JWKS), its `exp` and `nbf` within the clock skew, `alg: none` and any
 * algorithm the key does not call for refused; then its claims read into an
 * Identity. Each token is verified once and then remembered until it
 * expires (at most 5 minutes), so the cost is paid per client, not per call.
 * Every refusal is UNAUTHENTICATED with the reason.
 */
export function createTokenVerifier(keys: VerifierKeys): (token: string) => Promise<Identity> {
  const cache = new TokenCache<Identity>(CACHE_ENTRIES);
  const verify = async (token: string): Promise<JWTPayload> => {
    const options = {
      clockTolerance: keys.clockSkewS,
      ...(keys.issuer === undefined ? {} : { issuer: keys.issuer }),
      ...(keys.audience === undefined ? {} : { audience: keys.audience }),
    };
    if (keys.secret !== undefined && headerAlgorithm(token) === "HS256") {
      return (await jwtVerify(token, keys.secret, { ...options, algorithms: ["HS256"] })).payload;
    }
    if (keys.jwks !== undefined) {
      return (await jwtVerify(token, keys.jwks, { ...options, algorithms: PUBLIC_KEY_ALGORITHMS }))
        .payload;
    }
    if (keys.secret !== undefined) {
      return (await jwtVerify(token, keys.secret, { ...options, algorithms: ["HS256"] })).payload;
    }
    throw new Error("no key to verify tokens with");
  };
  return async (token) => {
    const now = Date.now();
    const cached = cache.get(token, now);
    if (cached !== undefined) return cached;
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      throw refusal(error);
    }
    const identity = identityFrom(payload);
    const until = Math.min(now + CACHE_MS, identity.expiresAtMs ?? Number.POSITIVE_INFINITY);
    cache.set(token, identity, until);
    return identity;
  };
}

/** The `alg` a token's header names, or "" when it cannot be read. */
function headerAlgorithm(token: string): string {
  try {
    const header = JSON.parse(
      Buffer.from(token.split(".", 1)[0] ?? "", "base64url").toString("utf8"),
    );
    return typeof header.alg === "string" ? header.alg : "";
  } catch {
    return "";
  }
}

/** The claims Parley reads: sub (the author), name, scope, rooms, exp. */
function identityFrom(payload: JWTPayload): Identity {
  const subject = typeof payload.sub === "string" ? payload.sub.trim() : "";
  const problem = subject === "" ? "is missing" : checkAuthor(subject);
  if (problem !== undefined) {
    throw new ConnectError(`token rejected: its sub (the author) ${problem}`, Code.Unauthenticated);
  }
  const scope = payload.scope ?? payload.scp;
  const scopes = new Set(
    typeof scope === "string"
      ? scope.split(" ").filter(Boolean)
      : Array.isArray(scope)
        ? scope.map(String)
        : [],
  );
  const rooms = payload.rooms;
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every((r) => typeof r === "string"))) {
    throw new ConnectError(
      "token rejected: its rooms claim must be a list of room names or prefixes ending in *",
      Code.Unauthenticated,
    );
  }
  return {
    subject,
    name: typeof payload.name === "string" && payload.name !== "" ? payload.name : subject,
    scopes,
    rooms: rooms as string[] | undefined,
    expiresAtMs: typeof payload.exp === "number" ? payload.exp * 1000 : undefined,
  };
}

/** What a client is told when its token is refused (jose's error codes, in words). */
function refusal(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const code = (error as { code?: string }).code;
  const reason =
    code === "ERR_JWT_EXPIRED"
      ? "it has expired"
      : code === "ERR_JOSE_ALG_NOT_ALLOWED"
        ? "its algorithm is not accepted here (alg none and algorithms the key is not for are refused)"
        : code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" || code === "ERR_JWKS_NO_MATCHING_KEY"
          ? "its signature does not verify with this server's keys"
          : code === "ERR_JWT_CLAIM_VALIDATION_FAILED"
            ? `a claim check failed (${(error as { claim?: string }).claim ?? "claim"}: ${(error as Error).message})`
            : code === "ERR_JWS_INVALID" || code === "ERR_JWT_INVALID"
              ? "it is not a well-formed JWT"
              : "it could not be verified";
  return new ConnectError(
    `token rejected: ${reason}`,
    Code.Unauthenticated,
    undefined,
    undefined,
    error,
  );
}
