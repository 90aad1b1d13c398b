import { Code, ConnectError } from "@connectrpc/connect";
import { LIMITS } from "./limits.js";

const ROOM_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const CONTROL_CHARS = /\p{Cc}/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** An INVALID_ARGUMENT error whose message starts with the offending field. */
export function invalidArgument(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** Unicode code points in a string (what the limits call characters). */
function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function quoted(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

/** A room name: 1-64 of a-z 0-9 _ -, starting with a letter or digit. */
export function validRoom(field: string, value: string): string {
  if (value.length === 0) throw invalidArgument(field, "is required");
  if (value.length > LIMITS.roomMaxChars || !ROOM_NAME.test(value)) {
    throw invalidArgument(
      field,
      `must be 1-${LIMITS.roomMaxChars} characters of a-z, 0-9, _ and -, starting with a letter or digit (got ${quoted(value)})`,
    );
  }
  return value;
}

/** An author: 1-32 characters after trimming, no control characters. Returns it trimmed. */
export function validAuthor(field: string, value: string): string {
  const author = value.trim();
  const n = charCount(author);
  if (n === 0 || n > LIMITS.authorMaxChars) {
    throw invalidArgument(
      field,
      `must be 1-${LIMITS.authorMaxChars} characters after trimming (got ${n})`,
    );
  }
  if (!author.isWellFormed()) throw invalidArgument(field, "must be well-formed Unicode");
  if (CONTROL_CHARS.test(author))
    throw invalidArgument(field, "must not contain control characters");
  return author;
}

/** Message text: 1-500 characters after trimming, well-formed Unicode. Returns it trimmed. */
export function validText(field: string, value: string): string {
  if (!value.isWellFormed()) {
    throw invalidArgument(field, "must be well-formed Unicode (it contains a lone surrogate)");
  }
  const text = value.trim();
  const n = charCount(text);
  if (n === 0 || n > LIMITS.textMaxChars) {
    throw invalidArgument(
      field,
      `must be 1-${LIMITS.textMaxChars} characters after trimming (got ${n})`,
    );
  }
  return text;
}

/** An idempotency key: empty, or 1-64 printable ASCII characters. */
export function validClientMessageId(field: string, value: string): string {
  if (value.length > LIMITS.clientMessageIdMaxChars || !PRINTABLE_ASCII.test(value)) {
    throw invalidArgument(
      field,
      `must be empty or 1-${LIMITS.clientMessageIdMaxChars} printable ASCII characters (got ${quoted(value)})`,
    );
  }
  return value;
}

/** An epoch a client remembered: at most 64 characters. */
export function validEpoch(field: string, value: string): string {
  if (charCount(value) > LIMITS.epochMaxChars) {
    throw invalidArgument(field, `must be at most ${LIMITS.epochMaxChars} characters`);
  }
  return value;
}

/** A seq from the wire as a number; seqs beyond 2^53 cannot exist. */
export function validSeq(field: string, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(field, `must be at most ${Number.MAX_SAFE_INTEGER} (got ${value})`);
  }
  return Number(value);
}

/** The fields every subscription shares (Subscribe, the SSE gateway), validated. */
export function validSubscription(req: { room: string; author: string; epoch: string }): {
  room: string;
  author: string;
  epoch: string;
} {
  return {
    room: validRoom("room", req.room),
    author: req.author === "" ? "" : validAuthor("author", req.author),
    epoch: validEpoch("epoch", req.epoch),
  };
}
