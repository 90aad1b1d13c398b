import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { GuestToken } from "../client/index.js";

/**
 * Guest tokens the CLI got, by server URL and name, kept between runs so a
 * second `parley send --as ann` reuses ann's token while it lasts. The
 * name's key, which gets the name back after that, is kept apart in
 * guest-keys.json (fileGuestKeys, shared with the client library). In
 * $XDG_STATE_HOME/parley (default ~/.local/state/parley), readable by the
 * user only.
 */
export function guestCacheFile(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "parley", "guest-tokens.json");
}

type Saved = Record<
  string,
  { token: string; subject: string; scopes: string[]; expiresAt: string }
>;

function readAll(): Saved {
  try {
    const parsed: unknown = JSON.parse(readFileSync(guestCacheFile(), "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Saved) : {};
  } catch {
    // None yet, or unreadable: log in afresh.
    return {};
  }
}

const key = (url: string, name: string) => `${url} ${name}`;

/** The saved guest token for `name` on the server at `url`, if it has not expired. */
export function savedGuestToken(url: string, name: string): GuestToken | undefined {
  const saved = readAll()[key(url, name)];
  if (saved === undefined) return undefined;
  const expiresAt = new Date(saved.expiresAt);
  if (!(expiresAt.getTime() > Date.now())) return undefined;
  return {
    token: saved.token,
    subject: saved.subject,
    scopes: saved.scopes,
    expiresAt,
    guestKey: "",
  };
}

/** Save a guest token; expired entries go. Failing to save only costs a name held until expiry. */
export function saveGuestToken(url: string, name: string, token: GuestToken): void {
  const now = Date.now();
  const all = Object.fromEntries(
    Object.entries(readAll()).filter(([, t]) => new Date(t.expiresAt).getTime() > now),
  );
  // The key goes to the key file (fileGuestKeys), which outlives the token.
  all[key(url, name)] = {
    token: token.token,
    subject: token.subject,
    scopes: token.scopes,
    expiresAt: token.expiresAt.toISOString(),
  };
  const file = guestCacheFile();
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch {
    // A read-only home: the command still works, the next run logs in afresh.
  }
}
