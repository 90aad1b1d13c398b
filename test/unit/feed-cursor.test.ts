import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, roomKey } from "../../src/chat/feed-cursor.js";
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
});
