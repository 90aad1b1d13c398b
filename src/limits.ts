/**
 * Every limit the contract names (see the comments in
 * proto/chat/v1/chat.proto), and the rules that apply them, in one place.
 * The server's validation (src/chat/validate.ts), its wire options and the
 * web app all read them from here, so the page and the server cannot drift.
 *
 * This module imports nothing: the browser bundle includes it as it is.
 * Operator settings (retention, subscriber queue sizes, heartbeats) are not
 * contract limits; they live in src/config.ts.
 */
export const LIMITS = {
  roomMaxChars: 64,
  authorMaxChars: 32,
  /** Unicode code points after trimming, not UTF-16 units or bytes. */
  textMaxChars: 500,
  clientMessageIdMaxChars: 64,
  epochMaxChars: 64,
  historyDefaultLimit: 50,
  historyMaxLimit: 1000,
  listRoomsDefaultLimit: 100,
  listRoomsMaxLimit: 1000,
  /** Memberships one user may hold at once, conversations included. */
  membershipsMax: 1000,
  /** Participants of one conversation, its opener included, unless `--conversation-max-participants` says otherwise. */
  conversationParticipantsDefault: 16,
  /** Feed cursors, in characters. */
  feedCursorMaxChars: 16 * 1024,
  /** Largest request message accepted on the wire (readMaxBytes). */
  messageMaxBytes: 64 * 1024,
} as const;

/** A room name's characters: a-z 0-9 _ -, starting with a letter or digit (length checked apart). */
export const ROOM_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** A conversation's id: "dm." and 26 characters of base32 (a-z 2-7); see src/chat/conversation-id.ts. */
export const CONVERSATION_ID_PATTERN = /^dm\.[a-z2-7]{26}$/;

/** Whether a room field names a conversation rather than a room. */
export function isConversationId(room: string): boolean {
  return CONVERSATION_ID_PATTERN.test(room);
}

const CONTROL_CHARS = /\p{Cc}/u;
// Format characters (Unicode category Cf) are invisible: bidi overrides and
// isolates (U+202A-202E, U+2066-2069), marks (U+200E/F), U+FEFF, tags … let a
// name look like another or reorder the text shown after it. Zero-width
// joiner and non-joiner stay allowed: Persian and Indic scripts spell words
// with them, and emoji sequences (family, profession) are joined by U+200D.
const FORMAT_CHARS = /(?![\u200c\u200d])\p{Cf}/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// In a /u pattern a surrogate pair reads as one astral code point, so only a
// lone surrogate matches. (String#isWellFormed would do, but Firefox < 119 lacks it.)
const LONE_SURROGATE = /\p{Cs}/u;

/** Unicode code points in a string: what every limit calls characters. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Whether a string is well-formed UTF-16 (no lone surrogate), so it can be encoded. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function quoted(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

// Each check returns what is wrong with a value, as a phrase that follows the
// field's name ("room: is required"), or undefined when the value keeps the limit.

/** A room name (1-64 of a-z 0-9 _ -, starting with a letter or digit) or a conversation id. */
export function checkRoomName(room: string): string | undefined {
  if (room.length === 0) return "is required";
  if (isConversationId(room)) return undefined;
  if (room.length > LIMITS.roomMaxChars || !ROOM_NAME_PATTERN.test(room)) {
    return `must be 1-${LIMITS.roomMaxChars} characters of a-z, 0-9, _ and -, starting with a letter or digit (got ${quoted(room)})`;
  }
  return undefined;
}

/**
 * An author, already trimmed: 1-32 characters, well-formed, no control
 * characters and no invisible format characters (Cf, but for U+200C/U+200D).
 */
export function checkAuthor(author: string): string | undefined {
  const n = codePoints(author);
  if (n === 0 || n > LIMITS.authorMaxChars) {
    return `must be 1-${LIMITS.authorMaxChars} characters after trimming (got ${n})`;
  }
  if (!isWellFormed(author)) return "must be well-formed Unicode";
  if (CONTROL_CHARS.test(author)) return "must not contain control characters";
  const format = FORMAT_CHARS.exec(author);
  if (format !== null) {
    const code = (format[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    return `must not contain invisible format characters such as bidi controls (got U+${code})`;
  }
  return undefined;
}

/** Message text, already trimmed: well-formed, 1-500 characters. */
export function checkText(text: string): string | undefined {
  if (!isWellFormed(text)) return "must be well-formed Unicode (it contains a lone surrogate)";
  const n = codePoints(text);
  if (n === 0 || n > LIMITS.textMaxChars) {
    return `must be 1-${LIMITS.textMaxChars} characters after trimming (got ${n})`;
  }
  return undefined;
}

/** An idempotency key: empty, or 1-64 printable ASCII characters. */
export function checkClientMessageId(id: string): string | undefined {
  if (id.length > LIMITS.clientMessageIdMaxChars || !PRINTABLE_ASCII.test(id)) {
    return `must be empty or 1-${LIMITS.clientMessageIdMaxChars} printable ASCII characters (got ${quoted(id)})`;
  }
  return undefined;
}

/** An epoch a client remembered: at most 64 characters. */
export function checkEpoch(epoch: string): string | undefined {
  if (codePoints(epoch) > LIMITS.epochMaxChars) {
    return `must be at most ${LIMITS.epochMaxChars} characters`;
  }
  return undefined;
}
