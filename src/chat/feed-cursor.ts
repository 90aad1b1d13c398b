import { createHash } from "node:crypto";
import { LIMITS } from "../limits.js";
import { invalidArgument } from "./validate.js";

/** The cursor format's version: the first byte of every cursor. */
const VERSION = 1;
/** Bytes of the subject's SHA-256 a cursor keeps: enough to tell users apart, nothing to read a name from. */
const SUBJECT_BYTES = 8;
/** Bytes of a room name's SHA-256 that name it in a cursor (48 bits: no two of one user's 1000 rooms meet). */
export const ROOM_KEY_BYTES = 6;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * A room's key in a cursor: the first ROOM_KEY_BYTES of its name's SHA-256,
 * as a latin1 string (one character a byte: a map key that encodes with no
 * parsing).
 */
export function roomKey(room: string): string {
  return createHash("sha256").update(room).digest().subarray(0, ROOM_KEY_BYTES).toString("latin1");
}

function subjectHash(subject: string): Buffer {
  return createHash("sha256").update(`feed\n${subject}`).digest().subarray(0, SUBJECT_BYTES);
}

/** Bytes a seq's varint may take: 8 carry 56 bits, past Number.MAX_SAFE_INTEGER. */
const MAX_VARINT_BYTES = 8;

/**
 * What every cursor of one subject starts with: the version byte and 8 bytes
 * of the subject's hash. A feed computes it once, not once per response.
 */
export function cursorHead(subject: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION]), subjectHash(subject)]);
}

/**
 * A feed cursor: for each room the feed follows, the last seq delivered.
 * Binary, then base64url, since every FeedResponse carries one: the head
 * (cursorHead: a version byte, 8 bytes of the subject's hash), then per room
 * its key (ROOM_KEY_BYTES) and the seq as a varint. 1000 rooms with seqs
 * below 2^28 stay under LIMITS.feedCursorMaxChars.
 */
export function encodeCursorAfter(head: Buffer, positions: ReadonlyMap<string, number>): string {
  const out = Buffer.allocUnsafe(
    head.length + positions.size * (ROOM_KEY_BYTES + MAX_VARINT_BYTES),
  );
  let at = head.copy(out, 0);
  for (const [key, seq] of positions) {
    at += out.write(key, at, ROOM_KEY_BYTES, "latin1");
    let n = seq;
    while (n >= 0x80) {
      out[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[at++] = n;
  }
  return out.toString("base64url", 0, at);
}

/** A feed cursor for `subject` (see encodeCursorAfter). */
export function encodeCursor(subject: string, positions: ReadonlyMap<string, number>): string {
  return encodeCursorAfter(cursorHead(subject), positions);
}

/**
 * The positions in a cursor (room key -> last seq delivered). Throws
 * INVALID_ARGUMENT naming `cursor` when it is malformed or was given to
 * another subject.
 */
export function decodeCursor(subject: string, cursor: string): Map<string, number> {
  if (cursor.length > LIMITS.feedCursorMaxChars) {
    throw invalidArgument(
      "cursor",
      `at most ${LIMITS.feedCursorMaxChars} characters (got ${cursor.length})`,
    );
  }
  const malformed = (why: string) =>
    invalidArgument("cursor", `malformed (${why}); pass a cursor a Feed response carried, or none`);
  if (!BASE64URL.test(cursor)) throw malformed("not base64url");
  const bytes = Buffer.from(cursor, "base64url");
  // Node skips stray trailing characters; a cursor is only what encodeCursor wrote.
  if (bytes.toString("base64url") !== cursor) throw malformed("not base64url");
  if (bytes[0] !== VERSION) throw malformed("unknown version");
  if (bytes.length < 1 + SUBJECT_BYTES) throw malformed("truncated");
  if (!bytes.subarray(1, 1 + SUBJECT_BYTES).equals(subjectHash(subject))) {
    throw invalidArgument("cursor", "was given to another user");
  }
  const positions = new Map<string, number>();
  let at = 1 + SUBJECT_BYTES;
  while (at < bytes.length) {
    if (at + ROOM_KEY_BYTES >= bytes.length) throw malformed("truncated");
    const key = bytes.subarray(at, at + ROOM_KEY_BYTES).toString("latin1");
    at += ROOM_KEY_BYTES;
    let seq = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined) throw malformed("truncated");
      seq += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw malformed("a seq out of range");
    }
    if (!Number.isSafeInteger(seq)) throw malformed("a seq out of range");
    if (positions.has(key)) throw malformed("a room twice");
    positions.set(key, seq);
  }
  return positions;
}
