import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

/** What a test token says. */
export interface TestClaims {
  sub: string;
  scope?: string;
  rooms?: string[];
  /** Seconds from now; negative for a token that has expired. */
  expiresInS?: number;
  iss?: string;
  aud?: string;
}

let filesDir: string | undefined;
/** A temporary folder for this test process's key files, removed when it exits. */
function keyFilesDir(): string {
  if (filesDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "parley-test-keys-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    filesDir = dir;
  }
  return filesDir;
}

/** An HS256 secret in a file of its own, as --auth-secret-file reads it. */
export function secretFile(secret: string): string {
  const dir = mkdtempSync(join(keyFilesDir(), "auth-"));
  const file = join(dir, "secret");
  writeFileSync(file, `${secret}\n`);
  return file;
}

/** Sign an HS256 token with `secret` (text: its UTF-8 bytes). */
export function hsToken(secret: string | Uint8Array, claims: TestClaims): Promise<string> {
  const key = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  return build(claims).setProtectedHeader({ alg: "HS256" }).sign(key);
}

function build(claims: TestClaims): SignJWT {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({
    scope: claims.scope ?? "chat:read chat:write",
    ...(claims.rooms === undefined ? {} : { rooms: claims.rooms }),
  })
    .setSubject(claims.sub)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (claims.expiresInS ?? 600));
  if (claims.iss !== undefined) jwt = jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt = jwt.setAudience(claims.aud);
  return jwt;
}

/** An RS256 key pair: the public half as a JWKS file, and a signer with the private half. */
export async function rsaIssuer(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const dir = mkdtempSync(join(keyFilesDir(), "jwks-"));
  const jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    jwksFile,
    sign: (claims: TestClaims) =>
      build(claims).setProtectedHeader({ alg: "RS256", kid }).sign(privateKey),
  };
}

/** A token with `alg: none` and no signature, which must never be accepted. */
export function unsignedToken(claims: TestClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ sub: claims.sub, scope: claims.scope ?? "chat:read chat:write", iat: now, exp: now + 600 })}.`;
}
