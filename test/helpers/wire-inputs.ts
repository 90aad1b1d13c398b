import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { RoomHead, StoredMessage } from "../../src/store/message-log.js";

/**
 * Generated inputs for the hand-written protobuf codecs (src/wire): pools of
 * the values where an encoding changes shape, combined by a seeded generator
 * so every run sees the same cases and a failure names a reproducible index.
 */

/**
 * Texts whose UTF-8 lengths sit on each side of the 1-, 2- and 3-byte length
 * varints (127/128 and 16,383/16,384 bytes), in one-, two- and four-byte
 * characters, plus a lone surrogate (every writer sends U+FFFD for it).
 */
export const TEXTS: readonly string[] = [
  "",
  "a",
  "hello",
  "é",
  "🙂",
  "名前🙂 ünïcödé",
  "\u0000",
  "a\ud800b",
  "x".repeat(127),
  "x".repeat(128),
  "é".repeat(64),
  "🙂".repeat(32),
  "x".repeat(16_383),
  "🙂".repeat(4096),
  "x".repeat(70_000),
];

/** Short texts, for lists of many (members). */
export const SHORT_TEXTS: readonly string[] = TEXTS.filter((t) => t.length < 100);

/** Seqs at each varint width, up to the largest a JavaScript number holds exactly. */
export const SEQS: readonly number[] = [
  0,
  1,
  2,
  127,
  128,
  16_383,
  16_384,
  2 ** 31 - 1,
  2 ** 32,
  2 ** 53 - 1,
];

/**
 * Milliseconds since 1970: zero, whole and fractional seconds on both sides
 * of it, today, and the first and last instants a Timestamp may hold
 * (0001-01-01 and 9999-12-31T23:59:59.999).
 */
export const TIMES: readonly number[] = [
  0, 1, 999, 1_000, 1_001, -1, -999, -1_000, -1_001, -1_576_800_000_123, 1_763_800_000_000,
  1_763_800_000_123, -62_135_596_800_000, 253_402_300_799_999,
];

/**
 * A deterministic stream of picks: the first 32 draws take each pool's
 * values in turn (so every value of a pool of up to 32 appears), later
 * draws are pseudo-random from a fixed seed (mulberry32).
 */
export class Picker {
  private state: number;

  constructor(
    private readonly index: number,
    seed = 0x5eed,
  ) {
    this.state = (seed + index * 0x9e3779b9) >>> 0;
  }

  /** A number in [0, 1). */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A value of `pool`. */
  pick<T>(pool: readonly T[]): T {
    const at = this.index < 32 ? this.index : Math.floor(this.random() * 1e9);
    return pool[at % pool.length] as T;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.random() * n);
  }
}

/** `count` inputs made by `make`, each with its own Picker. */
export function generate<T>(count: number, make: (p: Picker, index: number) => T): T[] {
  return Array.from({ length: count }, (_, i) => make(new Picker(i), i));
}

/** Stored messages covering every pool value, then random combinations. */
export function storedMessages(count: number): StoredMessage[] {
  return generate(count, (p) => ({
    room: p.pick(["", "lobby", "é-room", "r".repeat(200)]),
    seq: p.pick(SEQS),
    id: p.pick(["", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"]),
    author: p.pick(SHORT_TEXTS),
    text: p.pick(TEXTS),
    sentAtMs: p.pick(TIMES),
    clientMessageId: p.pick(["", "cid-1", "🙂", "k".repeat(128)]),
  }));
}

/** Arguments for a Ready event: room, head, member id and members (up to 300). */
export type ReadyArgs = [string, RoomHead, string, { memberId: string; author: string }[]];

/** Ready events of empty, small and big rooms. */
export function readyArgs(count: number): ReadyArgs[] {
  return generate(count, (p) => {
    const members = Array.from({ length: p.pick([0, 1, 2, 3, 300]) }, () => ({
      memberId: p.pick(["", "m1", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"]),
      author: p.pick(SHORT_TEXTS),
    }));
    const lastSeq = p.pick(SEQS);
    return [
      p.pick(["", "lobby", "é-room"]),
      { epoch: p.pick(["", "ep0ch", "e".repeat(130)]), lastSeq, firstSeq: p.pick([0, 1, lastSeq]) },
      p.pick(["", "m1", "🙂"]),
      members,
    ];
  });
}

/** Field numbers a message may not know: small, two-byte tags, the largest allowed. */
const UNKNOWN_NUMBERS = [5, 8, 15, 16, 2047, 2048, 536_870_911];

/**
 * One unknown field of any wire type (varint, 64-bit, 32-bit,
 * length-delimited with arbitrary bytes, or a group holding fields), with a
 * number above `highestKnown`.
 */
export function unknownField(p: Picker, highestKnown: number): Uint8Array {
  const numbers = UNKNOWN_NUMBERS.filter((n) => n > highestKnown);
  const no = numbers[p.below(numbers.length)] as number;
  const w = new BinaryWriter();
  switch (p.below(5)) {
    case 0:
      w.tag(no, WireType.Varint).uint64(p.pick([0n, 1n, 300n, 2n ** 64n - 1n]));
      break;
    case 1:
      w.tag(no, WireType.Bit64).fixed64(p.pick([0n, 2n ** 64n - 1n]));
      break;
    case 2:
      w.tag(no, WireType.Bit32).fixed32(p.pick([0, 2 ** 32 - 1]));
      break;
    case 3:
      // Not checked as UTF-8: unknown fields are bytes.
      w.tag(no, WireType.LengthDelimited).bytes(p.pick(INVALID_UTF8));
      break;
    default:
      w.tag(no, WireType.StartGroup);
      w.tag(1, WireType.LengthDelimited).string("in a group");
      w.tag(2, WireType.Varint).uint32(7);
      w.tag(no, WireType.EndGroup);
  }
  return w.finish();
}

/**
 * Byte strings that are not UTF-8: a lone continuation byte, an overlong
 * encoding, an encoded surrogate, a truncated sequence, 0xFF, and a bad
 * byte after valid text.
 */
export const INVALID_UTF8: readonly Uint8Array[] = [
  new Uint8Array([0x80]),
  new Uint8Array([0xc0, 0x80]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0xf0, 0x9f, 0x99]),
  new Uint8Array([0xff]),
  new Uint8Array([0x68, 0x69, 0xc3, 0x28]),
];

/** Concatenated byte strings. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
