import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Whether the TLS tests can make their certificate: they use the openssl
 * command. Without it they skip and say so (naming `what`), except under
 * CI=true, where .ci/run installs it and a missing openssl is a failure.
 */
export function opensslTestsCanRun(what: string): boolean {
  let found = true;
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    found = false;
  }
  const canRun = found || process.env.CI === "true";
  if (!canRun) console.warn(`${what} skipped: the openssl command is not installed`);
  return canRun;
}

/** A self-signed certificate for localhost and 127.0.0.1, valid for a day, in a folder of its own. */
export interface SelfSigned {
  /** The PEM files, as --tls-key and --tls-cert take them. */
  readonly keyFile: string;
  readonly certFile: string;
  /** The certificate, for a client to trust. */
  readonly ca: Buffer;
  /** Delete the folder. */
  remove(): void;
}

export function selfSignedCert(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), "parley-tls-"));
  const [keyFile, certFile] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile]
      .concat(["-days", "1", "-subj", "/CN=localhost"])
      .concat(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]),
    { stdio: "ignore" },
  );
  return {
    keyFile,
    certFile,
    ca: readFileSync(certFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
