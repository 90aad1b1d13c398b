import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FeedEventSchema, FeedResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import { messageEvent, toChatMessage } from "../../src/rooms/room-event.js";
import type { StoredMessage } from "../../src/store/message-log.js";
import { encodeFeedResponse, feedEventPart } from "../../src/wire/feed-response.js";

// The Feed's hand-written response writer, held to protobuf-es's encoding
// of the same FeedResponse, as test/unit/wire-contract.test.ts holds the others.

const stored = (seq: number, text: string): StoredMessage => ({
  room: "lobby",
  seq,
  id: `id-${seq}`,
  author: "ann",
  text,
  sentAtMs: 1_780_000_000_123 + seq,
  clientMessageId: seq % 2 === 0 ? "" : `c${seq}`,
});

describe("encodeFeedResponse", () => {
  it("writes room messages as FeedEvent.message from the hub's bytes, other events as given, and the cursor", () => {
    const others = [
      create(FeedEventSchema, {
        event: { case: "ready", value: { rooms: [{ room: "lobby", lastSeq: 3n }] } },
      }),
      create(FeedEventSchema, { event: { case: "left", value: { room: "old" } } }),
      create(FeedEventSchema, { event: { case: "read", value: { room: "lobby", readSeq: 2n } } }),
    ];
    // A long text: the length prefixes take more than one byte.
    const messages = [stored(1, "hi"), stored(2, "x".repeat(300)), stored(200, "é🙂")];
    const cursor = "AdKHAX4MEyneS13Adue5AQ";
    const bytes = encodeFeedResponse(
      [
        feedEventPart(toBinary(FeedEventSchema, others[0] as never)),
        ...messages.slice(0, 2).map((m) => ({ field: messageEvent(m).field, roomMessage: true })),
        feedEventPart(toBinary(FeedEventSchema, others[1] as never)),
        { field: messageEvent(messages[2] as StoredMessage).field, roomMessage: true },
        feedEventPart(toBinary(FeedEventSchema, others[2] as never)),
      ],
      cursor,
    );
    const asMessage = (m: StoredMessage) =>
      create(FeedEventSchema, { event: { case: "message", value: toChatMessage(m) } });
    const expected = create(FeedResponseSchema, {
      events: [
        others[0],
        asMessage(messages[0] as StoredMessage),
        asMessage(messages[1] as StoredMessage),
        others[1],
        asMessage(messages[2] as StoredMessage),
        others[2],
      ] as never,
      cursor,
    });
    expect(Buffer.from(bytes).equals(Buffer.from(toBinary(FeedResponseSchema, expected)))).toBe(
      true,
    );
  });

  it("leaves headroom in front when asked", () => {
    const plain = encodeFeedResponse([], "c");
    const roomy = encodeFeedResponse([], "c", 5);
    expect(Buffer.from(roomy.subarray(5)).equals(plain)).toBe(true);
  });
});
