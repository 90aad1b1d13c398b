/**
 * Where a client keeps its guest keys: the secret Login answers with a
 * first claim of a name, which gets the name back on later Logins (after a
 * restart of the server or of the client, with every token expired). Kept
 * per server and name; a key is as good as the name, so keep it private.
 */
export interface GuestKeyStore {
  /** The key saved for `name` on the server at `server` (its base URL), if any. */
  get(server: string, name: string): string | undefined;
  /** Save the key for `name` on `server`, replacing any other. */
  set(server: string, name: string, key: string): void;
}

/** Keys in this object only: the client keeps its name while it runs, not across runs. */
export function memoryGuestKeys(): GuestKeyStore {
  const keys = new Map<string, string>();
  return {
    get: (server, name) => keys.get(entryName(server, name)),
    set: (server, name, key) => {
      keys.set(entryName(server, name), key);
    },
  };
}

/** The part of `localStorage` a browser client uses. */
interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Keys in the browser's localStorage (one item per server and name,
 * `parley-guest-key <server> <name>`), so a page keeps its name across
 * reloads; falls back to memoryGuestKeys where there is none (a worker, a
 * private mode that refuses writes).
 */
export function localStorageGuestKeys(
  storage: KeyValueStorage | undefined = (globalThis as { localStorage?: KeyValueStorage })
    .localStorage,
): GuestKeyStore {
  const fallback = memoryGuestKeys();
  if (storage === undefined) return fallback;
  return {
    get(server, name) {
      try {
        return storage.getItem(`parley-guest-key ${entryName(server, name)}`) ?? undefined;
      } catch {
        return fallback.get(server, name);
      }
    },
    set(server, name, key) {
      try {
        storage.setItem(`parley-guest-key ${entryName(server, name)}`, key);
      } catch {
        fallback.set(server, name, key);
      }
    },
  };
}

/** One entry's name: the server without a trailing slash, and the name as the server trims it. */
export function entryName(server: string, name: string): string {
  return `${server.replace(/\/+$/, "")} ${name.trim()}`;
}
