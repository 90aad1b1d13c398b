const TOKEN_KEY = "parley.token";

/**
 * The token this browser last held, if any. Kept in localStorage (not per
 * tab) so a reload or a second tab renews the same name instead of finding
 * it held by "another guest" until the old token expires.
 */
export function savedToken(): string | undefined {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Remember the token, or forget it (undefined); best effort, as for the name. */
export function saveToken(token: string | undefined): void {
  try {
    if (token === undefined) localStorage.removeItem(TOKEN_KEY);
    else localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token lasts for this page only.
  }
}
