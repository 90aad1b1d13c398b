const NAME_KEY = "parley.name";

/** The display name this browser used last, if any. */
export function savedName(): string | undefined {
  try {
    return localStorage.getItem(NAME_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Remember the display name for next time (best effort: storage may be disabled). */
export function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Private mode or disabled storage: the name lasts for this page only.
  }
}
