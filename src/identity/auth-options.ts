import { type Command, InvalidArgumentError, Option } from "commander";
import { LIMITS } from "../limits.js";
import { AUTH_DEFAULTS, type AuthConfig } from "./auth-config.js";

function number(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A whole number within bounds. */
function wholeNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

const L = AUTH_DEFAULTS.limits;

/** Add the identity flags (each with its environment variable) to the server's command. */
export function addAuthOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--auth <mode>",
        "who may call: guest (Login hands out tokens for free names), jwt (tokens from your identity system), off (no checks: anyone may speak as anyone)",
      )
        .env("PARLEY_AUTH")
        .choices(["guest", "jwt", "off"])
        .default(AUTH_DEFAULTS.mode),
    )
    .addOption(
      new Option(
        "--auth-secret-file <file>",
        "HS256 secret to sign guest tokens and verify HS256 tokens with (guest without it: a secret kept beside the SQLite file, or per process on memory:; required on Redis, the same file on every node)",
      ).env("PARLEY_AUTH_SECRET_FILE"),
    )
    .addOption(
      new Option(
        "--auth-jwks <file|url>",
        "public keys (a JWKS file or https URL) to verify tokens with",
      ).env("PARLEY_AUTH_JWKS"),
    )
    .addOption(
      new Option("--auth-issuer <iss>", "tokens must carry this iss").env("PARLEY_AUTH_ISSUER"),
    )
    .addOption(
      new Option("--auth-audience <aud>", "tokens must carry this aud").env("PARLEY_AUTH_AUDIENCE"),
    )
    .addOption(
      new Option("--guest-token-ttl-s <s>", "lifetime of a guest token")
        .env("PARLEY_GUEST_TOKEN_TTL_S")
        .default(AUTH_DEFAULTS.guestTokenTtlS)
        .argParser(number("--guest-token-ttl-s", 10, 86_400)),
    )
    .addOption(
      new Option(
        "--guest-name-hold-days <days>",
        "how long a guest name stays held for its guest key after its last use (fractions allowed)",
      )
        .env("PARLEY_GUEST_NAME_HOLD_DAYS")
        .default(AUTH_DEFAULTS.guestNameHoldDays)
        .argParser(number("--guest-name-hold-days", 0, 3650)),
    )
    .addOption(
      new Option("--user-send-rate <n>", "messages per second one user may send on average")
        .env("PARLEY_USER_SEND_RATE")
        .default(L.sends.perSecond)
        .argParser(number("--user-send-rate", 0.01, 1_000_000)),
    )
    .addOption(
      new Option("--user-send-burst <n>", "messages one user may send at once")
        .env("PARLEY_USER_SEND_BURST")
        .default(L.sends.burst)
        .argParser(number("--user-send-burst", 1, 1_000_000)),
    )
    .addOption(
      new Option(
        "--user-join-rate <n>",
        "subscriptions and Chat joins per second one user may open",
      )
        .env("PARLEY_USER_JOIN_RATE")
        .default(L.joins.perSecond)
        .argParser(number("--user-join-rate", 0.01, 1_000_000)),
    )
    .addOption(
      new Option("--user-typing-rate <n>", "typing updates per second one user may send")
        .env("PARLEY_USER_TYPING_RATE")
        .default(L.typing.perSecond)
        .argParser(number("--user-typing-rate", 0.01, 1_000_000)),
    )
    .addOption(
      new Option("--user-max-streams <n>", "streams one user may have open at once")
        .env("PARLEY_USER_MAX_STREAMS")
        .default(L.maxStreams)
        .argParser(number("--user-max-streams", 1, 1_000_000)),
    )
    .addOption(
      new Option(
        "--conversation-max-participants <n>",
        "the most participants one conversation (OpenConversation) may have, its opener included",
      )
        .env("PARLEY_CONVERSATION_MAX_PARTICIPANTS")
        .default(AUTH_DEFAULTS.conversationMaxParticipants)
        .argParser(wholeNumber("--conversation-max-participants", 2, LIMITS.membershipsMax)),
    );
}

/** The AuthConfig the identity flags give; throws a message naming the flag when they do not fit together. */
export function authConfigFrom(o: Record<string, unknown>): AuthConfig {
  const mode = o.auth as AuthConfig["mode"];
  const secretFile = o.authSecretFile as string | undefined;
  const jwks = o.authJwks as string | undefined;
  if (mode === "jwt" && secretFile === undefined && jwks === undefined) {
    throw new Error(
      "--auth jwt needs keys to verify tokens with: give --auth-secret-file (HS256) or --auth-jwks (a JWKS file or URL)",
    );
  }
  return {
    mode,
    secretFile,
    jwks,
    issuer: o.authIssuer as string | undefined,
    audience: o.authAudience as string | undefined,
    guestTokenTtlS: o.guestTokenTtlS as number,
    guestNameHoldDays: o.guestNameHoldDays as number,
    clockSkewS: AUTH_DEFAULTS.clockSkewS,
    limits: {
      sends: { perSecond: o.userSendRate as number, burst: o.userSendBurst as number },
      joins: {
        perSecond: o.userJoinRate as number,
        burst: Math.max(L.joins.burst, o.userJoinRate as number),
      },
      typing: {
        perSecond: o.userTypingRate as number,
        burst: Math.max(L.typing.burst, o.userTypingRate as number),
      },
      maxStreams: o.userMaxStreams as number,
    },
    conversationMaxParticipants: o.conversationMaxParticipants as number,
  };
}
