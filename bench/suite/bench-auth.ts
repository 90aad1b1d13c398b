import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signToken } from "../../src/identity/sign-token.js";

/** Above anything a scenario opens or sends, so the per-user limits never refuse load. */
const UNLIMITED = "1000000";

/**
 * The flags that start Parley with `--auth jwt` (HS256, a fresh secret in a
 * temporary file) and the token every load call sends. The token's subject
 * is "pub", the author the fan-out publisher writes as (subscribers and
 * echo name none). The per-user limits are raised out of the way: this
 * target measures verifying tokens on every call, not the limits.
 */
export async function benchAuth(): Promise<{ flags: string[]; token: string }> {
  const secret = randomBytes(32).toString("base64url");
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-auth-"));
  const secretFile = join(dir, "secret");
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const issued = await signToken(
    Buffer.from(secret, "utf8"),
    { sub: "pub", scopes: ["chat:read", "chat:write"] },
    24 * 3600,
  );
  return {
    flags: [
      ...["--auth", "jwt", "--auth-secret-file", secretFile],
      ...["--user-send-rate", UNLIMITED, "--user-send-burst", UNLIMITED],
      ...["--user-join-rate", UNLIMITED, "--user-max-streams", UNLIMITED],
    ],
    token: issued.token,
  };
}
