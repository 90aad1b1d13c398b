const KEYS_KEY = "parley.guest-keys";

function readAll(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEYS_KEY) ?? "{}");
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/**
 * The guest key a Login answered for `name` on this server (localStorage is
 * per origin, so per server), if any. Sent with every Login for the name, it
 * gets the name back after a restart or with every token expired, and keeps
 * anyone else from taking it (see Login in chat.proto).
 */
export function savedGuestKey(name: string): string | undefined {
  const key = readAll()[name];
  return typeof key === "string" && key !== "" ? key : undefined;
}

/** Keep the key Login answered for `name` (best effort: storage may be disabled). */
export function saveGuestKey(name: string, key: string): void {
  if (key === "") return; // a renewal with a token alone answers none: keep the one held
  try {
    localStorage.setItem(KEYS_KEY, JSON.stringify({ ...readAll(), [name]: key }));
  } catch {
    // Storage disabled: the key lasts for this page only (the session holds the token).
  }
}
