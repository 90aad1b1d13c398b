import { readFile } from "node:fs/promises";
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { CallPolicy } from "../calls/call-policy.js";
import type { Logger } from "../logger.js";
import type { GuestNames } from "../store/guest-names.js";
import type { PeopleStore } from "../store/people.js";
import type { AuthConfig } from "./auth-config.js";
import { authPolicy } from "./auth-policy.js";
import { createGate, type Gate, OPEN_GATE } from "./gate.js";
import { GuestIssuer } from "./guest-issuer.js";
import { type GuestSecretHome, openGuestSecret } from "./guest-secret.js";
import { readSecret } from "./read-secret.js";
import { createTokenVerifier } from "./token-verifier.js";
import { UserLimits } from "./user-limits.js";

/** A server's identity parts: the policy (none when off), the cores' gate, guest logins. */
export interface Auth {
  policy: CallPolicy | undefined;
  gate: Gate;
  guests: GuestIssuer | undefined;
}

/** What openAuth needs of the server besides the AuthConfig. */
export interface AuthDeps {
  /** Whether a live member (a subscriber) uses a name. */
  isLiveMember: (name: string) => boolean;
  /** Where guest names and their keys are kept (the store's). */
  guestNames: GuestNames;
  /** Memberships and conversations (the store's): the gate checks conversations against them. */
  people: PeopleStore;
  /** Where the guest secret lives without --auth-secret-file. */
  secretHome: GuestSecretHome;
  logger: Logger;
}

/** Read the keys an AuthConfig names and build its parts. */
export async function openAuth(config: AuthConfig, deps: AuthDeps): Promise<Auth> {
  const logger = deps.logger;
  if (config.mode === "off") {
    logger.warn(
      "identity checks are off (--auth off): any caller may read any room and post as anyone; use --auth guest or --auth jwt when others can reach this server",
    );
    return { policy: undefined, gate: OPEN_GATE, guests: undefined };
  }
  const fileSecret =
    config.secretFile === undefined ? undefined : await readSecret(config.secretFile);
  const jwks = config.jwks === undefined ? undefined : await openJwks(config.jwks);
  // Guest tokens need a secret to be signed with: without a file given, one
  // kept beside the store's data (or, for the memory store, the process's).
  const secret =
    fileSecret ??
    (config.mode === "guest" ? await openGuestSecret(deps.secretHome, logger) : undefined);
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
      ? new GuestIssuer({
          secret,
          ttlS: config.guestTokenTtlS,
          holdMs: Math.round(config.guestNameHoldDays * 86_400_000),
          clockSkewS: config.clockSkewS,
          names: deps.guestNames,
          isLiveMember: deps.isLiveMember,
        })
      : undefined;
  return {
    policy: authPolicy(verify, limits),
    gate: createGate(limits, { store: deps.people, logger }),
    guests,
  };
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
