import { checkAuthor, checkRoomName, checkText, codePoints, LIMITS } from "../../src/limits.js";

// The contract's rules, checked in the page too so a person is told before
// sending. Whether a value passes is decided by src/limits.ts, the module the
// server validates with; only the wording here is the page's own.

/** Why a room name is refused, or undefined when it is fine. */
export function roomProblem(room: string): string | undefined {
  if (checkRoomName(room) === undefined) return undefined;
  return `Room names are 1-${LIMITS.roomMaxChars} characters of a-z, 0-9, _ and -, starting with a letter or digit.`;
}

/** Why a display name is refused (judged after trimming, as the server does), or undefined. */
export function authorProblem(author: string): string | undefined {
  const name = author.trim();
  if (checkAuthor(name) === undefined) return undefined;
  const n = codePoints(name);
  if (n === 0) return "Choose a name others will see.";
  if (n > LIMITS.authorMaxChars) {
    return `Names are at most ${LIMITS.authorMaxChars} characters (this one has ${n}).`;
  }
  return "Names cannot contain control characters, invisible formatting characters (such as bidi controls) or broken Unicode.";
}

/** Why a message cannot be sent (judged after trimming, as the server does), or undefined. */
export function textProblem(text: string): string | undefined {
  const message = text.trim();
  if (checkText(message) === undefined) return undefined;
  const n = codePoints(message);
  if (n === 0) return "Type a message first.";
  const over = n - LIMITS.textMaxChars;
  if (over > 0) {
    return `${over} ${over === 1 ? "character" : "characters"} over the ${LIMITS.textMaxChars}-character limit`;
  }
  return "The message contains broken Unicode (a lone surrogate).";
}
