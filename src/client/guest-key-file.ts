import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { entryName, type GuestKeyStore } from "./guest-keys.js";

/**
 * The default file of a Node client's guest keys (shared with the `parley`
 * CLI): `$XDG_STATE_HOME/parley/guest-keys.json`, by default
 * `~/.local/state/parley/guest-keys.json`.
 */
export function defaultGuestKeyFile(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "parley", "guest-keys.json");
}

/**
 * Keys in a JSON file ({"<server> <name>": key}), readable by its owner only
 * (mode 0600, its folder 0700). Read on every get, so runs and processes
 * sharing the file see each other's keys; written whole through a temporary
 * file renamed into place, so a reader never sees half a file. A file that
 * cannot be read counts as empty; one that cannot be written costs the name
 * at the next run, not this run.
 */
export function fileGuestKeys(file: string = defaultGuestKeyFile()): GuestKeyStore {
  const readAll = (): Record<string, string> => {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, string>)
        : {};
    } catch {
      return {};
    }
  };
  return {
    get(server, name) {
      const key = readAll()[entryName(server, name)];
      return typeof key === "string" ? key : undefined;
    },
    set(server, name, key) {
      const all = readAll();
      all[entryName(server, name)] = key;
      const temp = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
        chmodSync(temp, 0o600);
        renameSync(temp, file);
      } catch {
        // A read-only home: this run keeps its name; the next may not.
      }
    },
  };
}
