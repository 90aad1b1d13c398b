import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { CallPolicy } from "../calls/call-policy.js";
import type { Logger } from "../logger.js";
import type { AuthConfig } from "./auth-config.js";
import { authPolicy } from "./auth-policy.js";
import { createGate, type Gate, OPEN_GATE } from "./gate.js";
import { GuestIssuer } from "./guest-issuer.js";
import { createTokenVerifier } from "./token-verifier.js";
import { UserLimits } from "./user-limits.js";

/** A server's identity parts: the policy (none when off), the cores' gate, guest logins. */
export interface Auth {
  policy: CallPolicy | undefined;
  gate: Gate;
  guests: GuestIssuer | undefined;
}

/** Read the keys an AuthConfig names and build its parts; `isLiveMember` tells whether a name is in use. */
export async function openAuth(
  config: AuthConfig,
  isLiveMember: (name: string) => boolean,
  logger: Logger,
): Promise<Auth> {
  if (config.mode === "off") {
    logger.warn(
      "identity checks are off (--auth off): any caller may read any room and post as anyone; use --auth guest or --auth jwt when others can reach this server",
    );
    return { policy: undefined, gate: OPEN_GATE, guests: undefined };
  }
  const fileSecret =
    config.secretFile === undefined ? undefined : await readSecret(config.secretFile);
  const jwks = config.jwks === undefined ? undefined : await openJwks(config.jwks);
  // Guest tokens need a secret to be signed with; a random one serves a single process.
  const secret = fileSecret ?? (config.mode === "guest" ? randomBytes(32) : undefined);
  const limits = new UserLimits(config.limits);
  const verify = createTokenVerifier({
    secret,
    jwks,
    issuer: config.issuer,
    audience: config.audience,
    clockSkewS: config.clockSkewS,
  });
  const guests =
    config.mode === "guest" && secret !== undefined
      ? new GuestIssuer(secret, config.guestTokenTtlS, isLiveMember)
      : undefined;
  return { policy: authPolicy(verify, limits), gate: createGate(limits), guests };
}

/** An HS256 secret file: its bytes, trailing newline dropped; at least 32 bytes. */
export async function readSecret(file: string): Promise<Uint8Array> {
  const bytes = Buffer.from((await readFile(file, "utf8")).replace(/\r?\n$/, ""), "utf8");
  if (bytes.length < 32) {
    throw new Error(
      `--auth-secret-file ${file}: an HS256 secret must be at least 32 bytes (it has ${bytes.length})`,
    );
  }
  return bytes;
}

async function openJwks(source: string): Promise<JWTVerifyGetKey> {
  if (/^https?:\/\//.test(source)) return createRemoteJWKSet(new URL(source));
  try {
    return createLocalJWKSet(JSON.parse(await readFile(source, "utf8")));
  } catch (error) {
    throw new Error(
      `--auth-jwks ${source}: not a readable JWKS file (${(error as Error).message})`,
    );
  }
}
