import type { AuthMode } from "./auth-mode.js";

const MODE_KEY = "parley.auth-mode";
const MODES: readonly string[] = ["off", "guest", "jwt"];

/**
 * How this server knew its callers when the page last learned it, if ever.
 * The page starts from it, so it calls nothing it knows will fail; without
 * it the page assumes the default (guest) until Login says otherwise.
 */
export function savedAuthMode(): AuthMode | undefined {
  try {
    const mode = localStorage.getItem(MODE_KEY) ?? "";
    return MODES.includes(mode) ? (mode as AuthMode) : undefined;
  } catch {
    return undefined;
  }
}

/** Remember the mode, or forget it (undefined) when the server turned out otherwise. */
export function saveAuthMode(mode: AuthMode | undefined): void {
  try {
    if (mode === undefined) localStorage.removeItem(MODE_KEY);
    else localStorage.setItem(MODE_KEY, mode);
  } catch {
    // Storage disabled: the page learns the mode again on its next load.
  }
}
