/**
 * The pieces of protobuf's binary format that the field-by-field writers
 * (message-event.ts, room-event.ts) share: sizes first, then one buffer
 * written in place. Field numbers here are all below 16, so a tag is one byte.
 */

export const VARINT = 0;
export const LENGTH_DELIMITED = 2;

/** A tag of a field numbered below 16: one byte. */
export const tag = (field: number, wireType: number) => (field << 3) | wireType;

/** A string's UTF-8 length; strings are mostly empty or short. */
export const utf8Length = (s: string) => (s.length === 0 ? 0 : Buffer.byteLength(s, "utf8"));

/** A string field's size with its tag and length, or 0 for "" (left out). */
export const stringFieldSize = (length: number) =>
  length === 0 ? 0 : 1 + varintSize(length) + length;

/** A uint64 field's size with its tag, or 0 for 0 (left out). */
export const uint64FieldSize = (n: number) => (n === 0 ? 0 : 1 + varintSize(n));

/** Write a string field (nothing for ""); `length` is utf8Length(s). Returns the next position. */
export function writeString(
  out: Buffer,
  pos: number,
  field: number,
  s: string,
  length: number,
): number {
  if (length === 0) return pos;
  out[pos] = tag(field, LENGTH_DELIMITED);
  const at = writeVarint(out, pos + 1, length);
  return at + out.write(s, at, length, "utf8");
}

/** Write a uint64 field (nothing for 0). Returns the next position. */
export function writeUint64(out: Buffer, pos: number, field: number, n: number): number {
  if (n === 0) return pos;
  out[pos] = tag(field, VARINT);
  return writeVarint(out, pos + 1, n);
}

/** The size of a non-negative integer (up to 2^53) as a varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** A non-negative integer (up to 2^53) as a varint; division, since bit operators stop at 32 bits. */
export function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

/** Throws unless `n` is a uint64 these writers hold exactly (a safe, non-negative integer); `what` names it. */
export function assertUint64(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} ${n} is not a uint64 this writer can hold`);
  }
}

/** Where an event starts in a length-prefixed field: after the varint. */
export function eventStart(field: Uint8Array): number {
  let pos = 0;
  while (((field[pos] as number) & 0x80) !== 0) pos++;
  return pos + 1;
}

/** A length-prefixed event's own bytes: the field without its leading length. */
export const withoutLength = (field: Uint8Array): Uint8Array => field.subarray(eventStart(field));
