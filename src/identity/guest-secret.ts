import { randomBytes } from "node:crypto";
import { link, mkdir, open, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../logger.js";
import { readSecret } from "./read-secret.js";

/** Where the guest signing secret lives when no --auth-secret-file is given. */
export type GuestSecretHome =
  /** A file beside the store's data, read or created at start. */
  | { kind: "file"; path: string }
  /** This process only: tokens die with it (the memory store). */
  | { kind: "process" };

/**
 * Where the guest secret of a `--store` value lives: beside an SQLite file
 * (`data/parley.db` keeps it in `data/parley.db.guest-secret`, so two
 * databases in one folder never accept each other's tokens), in the process
 * for the memory store. Redis needs --auth-secret-file (config.ts).
 */
export function guestSecretHome(store: string): GuestSecretHome {
  if (store.startsWith("sqlite:")) {
    const path = store.slice("sqlite:".length);
    if (path !== "" && path !== ":memory:") return { kind: "file", path: `${path}.guest-secret` };
  }
  return { kind: "process" };
}

/**
 * The secret guest tokens are signed with: read from its file, or made
 * (32 random bytes, base64url) and written there with mode 0600 on first
 * start. The file appears whole or not at all (written beside it, then
 * linked into place, which fails if another process made it first). A
 * file others may read, or one shorter than 32 bytes, is refused: anyone who
 * reads it can sign tokens for any name.
 */
export async function openGuestSecret(home: GuestSecretHome, logger: Logger): Promise<Uint8Array> {
  if (home.kind === "process") {
    logger.warn(
      "guest tokens are signed with a secret of this process (memory store): they stop working when it exits, and guests log in again",
    );
    return randomBytes(32);
  }
  const file = home.path;
  let created: boolean;
  let info: { mode: number };
  try {
    created = await createIfMissing(file);
    info = await stat(file);
  } catch (error) {
    // A plain message: a bare EACCES would read as a port the user may not bind.
    throw new Error(
      `guest secret ${file}: could not read or create it (${(error as Error).message}); give a folder this user may write with --store sqlite:PATH, or a secret with --auth-secret-file`,
    );
  }
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new Error(
      `guest secret ${file}: others may read or change it (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\`, or delete it to have a new one made (every guest token then stops working)`,
    );
  }
  let secret: Uint8Array;
  try {
    secret = await readSecret(file);
  } catch (error) {
    throw new Error(
      `guest secret ${file}: ${(error as Error).message.replace(/^--auth-secret-file [^:]*: /, "")}; delete it to have a new one made`,
    );
  }
  logger.info(
    { file },
    created
      ? "guest tokens are signed with a new secret, kept in this file (mode 0600) so they outlive restarts"
      : "guest tokens are signed with the secret in this file",
  );
  return secret;
}

/** Write a new secret to `file` unless it exists; true when this call made it. */
async function createIfMissing(file: string): Promise<boolean> {
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return false;
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${randomBytes(32).toString("base64url")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
