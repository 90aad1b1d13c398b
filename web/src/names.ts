/** The contract's rules, checked in the page too so a person gets told before sending. */
export const TEXT_MAX = 500;
/** Display names: at most this many characters after trimming. */
export const AUTHOR_MAX = 32;
const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Unicode code points, as the server counts characters. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Why a room name is refused, or undefined when it is fine. */
export function roomProblem(room: string): string | undefined {
  if (ROOM_NAME.test(room)) return undefined;
  return "Room names are 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit.";
}

/** Why a display name is refused, or undefined when it is fine. */
export function authorProblem(author: string): string | undefined {
  const n = charCount(author.trim());
  if (n === 0) return "Choose a name others will see.";
  if (n > AUTHOR_MAX) return `Names are at most ${AUTHOR_MAX} characters (this one has ${n}).`;
  if (/\p{Cc}/u.test(author)) return "Names cannot contain control characters.";
  return undefined;
}

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
