import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  cursorHead,
  decodeCursor,
  encodeCursor,
  encodeCursorAfter,
  roomKey,
} from "../../src/chat/feed-cursor.js";
import { LIMITS } from "../../src/limits.js";

describe("feed cursors", () => {
  it("hold 1000 rooms (the membership limit) with seqs up to 2^28 within the limit, and give them back", () => {
    const positions = new Map<string, number>();
    for (let i = 0; i < 1000; i++) positions.set(roomKey(`room-${i}`), 2 ** 28 - 1 - i);
    const cursor = encodeCursor("ann", positions);
    expect(cursor.length).toBeLessThanOrEqual(LIMITS.feedCursorMaxChars);
    expect(decodeCursor("ann", cursor)).toEqual(positions);
  });

  it("give back every seq up to 2^53 - 1", () => {
    const positions = new Map([
      [roomKey("a"), 0],
      [roomKey("b"), 127],
      [roomKey("c"), 128],
      [roomKey("d"), Number.MAX_SAFE_INTEGER],
    ]);
    const cursor = encodeCursor("bo", positions);
    expect(decodeCursor("bo", cursor)).toEqual(positions);
  });

  it("are the version byte, 8 bytes of the subject's SHA-256, then per room its key and the seq as a varint", () => {
    const positions = new Map([
      [roomKey("lobby"), 300],
      [roomKey("dm.x"), 5],
    ]);
    const sha = (text: string) => createHash("sha256").update(text).digest();
    const expected = Buffer.concat([
      Buffer.from([1]),
      sha("feed\nann").subarray(0, 8),
      sha("lobby").subarray(0, 6),
      Buffer.from([0xac, 0x02]),
      sha("dm.x").subarray(0, 6),
      Buffer.from([5]),
    ]).toString("base64url");
    expect(encodeCursor("ann", positions)).toBe(expected);
    // A feed keeps its head and writes each cursor after it: the same text.
    expect(encodeCursorAfter(cursorHead("ann"), positions)).toBe(expected);
    expect(encodeCursorAfter(cursorHead("ann"), new Map())).toBe(
      Buffer.concat([Buffer.from([1]), sha("feed\nann").subarray(0, 8)]).toString("base64url"),
    );
  });
});
