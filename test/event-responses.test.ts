import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ChatResponseSchema,
  MemberSchema,
  ReadySchema,
  RoomEventSchema,
  SubscribeResponseSchema,
} from "../gen/chat/v1/chat_pb.js";
import { encodedEvents, eventResponses, isBinaryContentType } from "../src/chat/event-responses.js";
import {
  heartbeatEvent,
  joinEvent,
  leaveEvent,
  messageEvent,
  type QueuedEvent,
  readyEvent,
} from "../src/rooms/room-event.js";
import { typingEvent } from "../src/rooms/typing.js";
import { contractFields } from "./helpers/contract-fields.js";

// Binary Subscribe and Chat responses are assembled from each event's bytes,
// encoded once for every subscriber. These tests hold that path to
// protobuf-es's own encoding of the same messages, byte for byte.

const message = (seq: number, text: string) =>
  messageEvent({
    room: "lobby",
    seq,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    author: "ann",
    text,
    sentAtMs: 1_790_000_000_123 + seq,
    clientMessageId: seq % 2 === 0 ? `cid-${seq}` : "",
  });

/** One of every event kind, and texts whose lengths need 1-, 2- and 3-byte varints. */
const BATCH: QueuedEvent[] = [
  readyEvent("lobby", { epoch: "ep0ch", lastSeq: 7, firstSeq: 1 }, "m1", [
    { memberId: "m0", author: "bob" },
    { memberId: "m1", author: "" },
  ]),
  message(1, "hi"),
  message(2, "é".repeat(100)),
  message(3, "x".repeat(500)),
  message(4, "🙂".repeat(500)),
  joinEvent("m2", "carol"),
  leaveEvent("m2", "carol"),
  heartbeatEvent(4),
  typingEvent("ann", false),
];

const BINARY_TYPES = [
  "application/grpc",
  "application/grpc+proto",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/connect+proto",
  "application/grpc+proto; charset=utf-8",
];
const JSON_TYPES = [
  "application/grpc+json",
  "application/grpc-web+json",
  "application/connect+json",
];

describe("binary responses built from pre-encoded events", () => {
  for (const [name, schema] of [
    ["SubscribeResponse", SubscribeResponseSchema],
    ["ChatResponse", ChatResponseSchema],
  ] as const) {
    it(`are byte-identical to protobuf-es encoding the ${name}`, () => {
      const respond = eventResponses(schema, "application/grpc");
      for (const batch of [BATCH, BATCH.slice(1, 2), [], [...BATCH, ...BATCH]]) {
        const expected = toBinary(schema, create(schema, { events: batch.map((q) => q.event) }));
        const actual = toBinary(schema, respond(batch));
        expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
        expect(fromBinary(schema, actual).events).toEqual(batch.map((q) => q.event));
      }
    });
  }

  it("are the same bytes when written whole for the direct gRPC path, after the headroom", () => {
    for (const batch of [BATCH, BATCH.slice(1, 2), [...BATCH, ...BATCH]]) {
      const expected = toBinary(
        SubscribeResponseSchema,
        create(SubscribeResponseSchema, { events: batch.map((q) => q.event) }),
      );
      const out = encodedEvents(batch, 5);
      expect(out.length).toBe(5 + expected.length);
      expect(out.subarray(5).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it("carry each event's own encoding, length-prefixed", () => {
    for (const q of BATCH) {
      const bytes = toBinary(RoomEventSchema, q.event);
      expect(q.size).toBe(bytes.length);
      expect(
        Buffer.from(q.field.subarray(q.field.length - bytes.length)).equals(Buffer.from(bytes)),
      ).toBe(true);
    }
  });

  it("are used for every binary content type, and only for those", () => {
    for (const type of BINARY_TYPES) expect(isBinaryContentType(type), type).toBe(true);
    for (const type of [...JSON_TYPES, "application/json", "text/plain"]) {
      expect(isBinaryContentType(type), type).toBe(false);
    }
    expect(isBinaryContentType(null)).toBe(false);
  });
});

describe("Ready, written field by field", () => {
  it("knows every field the contract gives Ready and Member", () => {
    expect(contractFields(ReadySchema)).toEqual([
      "1:room:scalar",
      "2:epoch:scalar",
      "3:last_seq:scalar",
      "4:first_seq:scalar",
      "5:member_id:scalar",
      "6:members:list",
    ]);
    expect(contractFields(MemberSchema)).toEqual(["1:member_id:scalar", "2:author:scalar"]);
    expect(RoomEventSchema.field.ready?.number).toBe(5);
  });

  const members = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      memberId: `m${i}`,
      author: i % 3 === 0 ? "" : `名前${i}🙂`.repeat(1 + (i % 4)),
    }));
  const cases: [string, Parameters<typeof readyEvent>][] = [
    ["an empty room", ["lobby", { epoch: "e", lastSeq: 0, firstSeq: 0 }, "m0", []]],
    ["big seqs", ["r", { epoch: "ep0ch-ep0ch", lastSeq: 2 ** 40, firstSeq: 2 ** 40 - 9 }, "x", []]],
    ["300 members", ["big", { epoch: "e", lastSeq: 5, firstSeq: 1 }, "m299", members(300)]],
    [
      "empty strings",
      ["", { epoch: "", lastSeq: 1, firstSeq: 1 }, "", [{ memberId: "", author: "" }]],
    ],
  ];
  it.each(cases)("%s: the bytes toBinary writes, and the same message", (_, args) => {
    const q = readyEvent(...args);
    const expected = toBinary(RoomEventSchema, q.event);
    expect(q.size).toBe(expected.length);
    expect(
      Buffer.from(q.field.subarray(q.field.length - q.size)).equals(Buffer.from(expected)),
    ).toBe(true);
    const [room, head, memberId, list] = args;
    expect(fromBinary(RoomEventSchema, expected).event).toEqual({
      case: "ready",
      value: expect.objectContaining({
        room,
        epoch: head.epoch,
        lastSeq: BigInt(head.lastSeq),
        firstSeq: BigInt(head.firstSeq),
        memberId,
        members: (list ?? []).map((m) => expect.objectContaining(m)),
      }),
    });
  });
});

describe("JSON responses", () => {
  it("carry the events as messages, so their JSON lists every event", () => {
    for (const type of JSON_TYPES) {
      const response = eventResponses(SubscribeResponseSchema, type)(BATCH);
      expect(response.$unknown).toBeUndefined();
      expect(response.events).toEqual(BATCH.map((q) => q.event));
      expect(toJson(SubscribeResponseSchema, response)).toEqual({
        events: BATCH.map((q) => toJson(RoomEventSchema, q.event)),
      });
    }
  });
});
