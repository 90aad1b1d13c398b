import {
  create,
  type DescMessage,
  equals,
  fromBinary,
  type MessageShape,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  type Timestamp,
  TimestampSchema,
  timestampFromMs,
  timestampMs,
} from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  pipe,
  transformDecompressEnvelope,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import {
  type ChatMessage,
  ChatMessageSchema,
  ChatResponseSchema,
  EchoRequestSchema,
  EchoResponseSchema,
  MemberSchema,
  ReadySchema,
  type RoomEvent,
  RoomEventSchema,
  SendRequestSchema,
  type SendResponse,
  SendResponseSchema,
  SubscribeResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import { protocolOf } from "../../src/calls/call-info.js";
import { Reply, toConnectResponse, toFrame, toMessage } from "../../src/calls/reply.js";
import { eventsReply } from "../../src/chat/event-replies.js";
import { sendReply } from "../../src/chat/send-message.js";
import {
  heartbeatEvent,
  joinEvent,
  leaveEvent,
  messageEvent,
  type QueuedEvent,
  readyEvent,
  toChatMessage,
} from "../../src/rooms/room-event.js";
import { typingEvent } from "../../src/rooms/typing.js";
import type { StoredMessage } from "../../src/store/message-log.js";
import {
  decodeEchoRequest,
  decodeEchoRequestText,
  encodeEchoResponse,
} from "../../src/wire/echo-codec.js";
import {
  FRAME_PREFIX_BYTES,
  FrameReader,
  frameMessage,
  writeFramePrefix,
} from "../../src/wire/envelope.js";
import { encodeEventBatch, eventBatchFrame } from "../../src/wire/event-batch.js";
import { eventStart, withoutLength } from "../../src/wire/field-writer.js";
import { messageEventField } from "../../src/wire/message-event.js";
import { opaqueMessage } from "../../src/wire/opaque-message.js";
import { readyEventField } from "../../src/wire/room-event.js";
import { decodeSendRequest, encodeSendResponse } from "../../src/wire/send-codec.js";
import { writeTimestampField } from "../../src/wire/timestamp.js";
import { contractFields } from "../helpers/contract-fields.js";
import {
  concat,
  generate,
  INVALID_UTF8,
  type ReadyArgs,
  readyArgs,
  SEQS,
  storedMessages,
  TEXTS,
  TIMES,
  unknownField,
} from "../helpers/wire-inputs.js";

// Every hand-written protobuf writer and reader (src/wire) held to
// protobuf-es on generated messages, byte for byte; and the contract's field
// lists for every message they cover, so a change to chat.proto that the
// writers do not know about fails here, naming the writer to update.

/** The messages the hand-written code writes or reads, and the fields it was written for. */
const COVERED: { schema: DescMessage; update: string; fields: string[] }[] = [
  {
    schema: ChatMessageSchema,
    update: "messageEventField (src/wire/message-event.ts)",
    fields: [
      "1:room:string",
      "2:seq:uint64",
      "3:id:string",
      "4:author:string",
      "5:text:string",
      "6:sent_at:google.protobuf.Timestamp",
      "7:client_message_id:string",
    ],
  },
  {
    schema: TimestampSchema,
    update:
      "writeTimestampField (src/wire/timestamp.ts) and messageEventField (src/wire/message-event.ts)",
    fields: ["1:seconds:int64", "2:nanos:int32"],
  },
  {
    schema: RoomEventSchema,
    update:
      "messageEventField (message = 1, src/wire/message-event.ts) and readyEventField (ready = 5, src/wire/room-event.ts)",
    fields: [
      "1:message:chat.v1.ChatMessage oneof event",
      "2:join:chat.v1.MemberJoined oneof event",
      "3:leave:chat.v1.MemberLeft oneof event",
      "4:heartbeat:chat.v1.Heartbeat oneof event",
      "5:ready:chat.v1.Ready oneof event",
      "6:typing:chat.v1.Typing oneof event",
    ],
  },
  {
    schema: ReadySchema,
    update: "readyEventField (src/wire/room-event.ts)",
    fields: [
      "1:room:string",
      "2:epoch:string",
      "3:last_seq:uint64",
      "4:first_seq:uint64",
      "5:member_id:string",
      "6:members:repeated chat.v1.Member",
    ],
  },
  {
    schema: MemberSchema,
    update: "readyEventField's members (src/wire/room-event.ts)",
    fields: ["1:member_id:string", "2:author:string"],
  },
  {
    schema: SubscribeResponseSchema,
    update:
      "encodeEventBatch and eventBatchFrame (src/wire/event-batch.ts, EVENTS_TAG) and eventsReply (src/chat/event-replies.ts)",
    fields: ["1:events:repeated chat.v1.RoomEvent"],
  },
  {
    schema: ChatResponseSchema,
    update:
      "encodeEventBatch and eventBatchFrame (src/wire/event-batch.ts, EVENTS_TAG) and eventsReply (src/chat/event-replies.ts)",
    fields: ["1:events:repeated chat.v1.RoomEvent"],
  },
  {
    schema: SendRequestSchema,
    update: "decodeSendRequest and SendFields (src/wire/send-codec.ts)",
    fields: ["1:room:string", "2:author:string", "3:text:string", "4:client_message_id:string"],
  },
  {
    schema: SendResponseSchema,
    update: "encodeSendResponse (src/wire/send-codec.ts)",
    fields: ["1:message:chat.v1.ChatMessage", "2:duplicate:bool"],
  },
  {
    schema: EchoRequestSchema,
    update: "decodeEchoRequestText (src/wire/echo-codec.ts)",
    fields: ["1:text:string"],
  },
  {
    schema: EchoResponseSchema,
    update: "encodeEchoResponse (src/wire/echo-codec.ts)",
    fields: ["1:text:string", "2:seq:uint64", "3:received_at:google.protobuf.Timestamp"],
  },
];

describe("the contract the hand-written wire code was written for", () => {
  it.each(COVERED)("$schema.typeName has exactly the fields its writer knows", (c) => {
    expect(
      contractFields(c.schema),
      `chat.proto changed ${c.schema.typeName}: update ${c.update} (and its test here), then this field list`,
    ).toEqual(c.fields);
  });

  it("puts the message and Ready where the event writers put them", () => {
    expect(RoomEventSchema.field.message?.number).toBe(1);
    expect(RoomEventSchema.field.ready?.number).toBe(5);
  });
});

// --- Expected messages, built with protobuf-es from the same inputs.

const MESSAGES = storedMessages(160);

/** A stored message as protobuf-es builds it, independently of src/. */
function chatMessageOf(m: StoredMessage): ChatMessage {
  return create(ChatMessageSchema, {
    room: m.room,
    seq: BigInt(m.seq),
    id: m.id,
    author: m.author,
    text: m.text,
    sentAt: timestampFromMs(m.sentAtMs),
    clientMessageId: m.clientMessageId,
  });
}

function readyEventOf([room, head, memberId, members]: ReadyArgs): RoomEvent {
  return create(RoomEventSchema, {
    event: {
      case: "ready",
      value: {
        room,
        epoch: head.epoch,
        lastSeq: BigInt(head.lastSeq),
        firstSeq: BigInt(head.firstSeq),
        memberId,
        members,
      },
    },
  });
}

/** The bytes as a Buffer, without copying. */
const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The same bytes. Compared as Buffers (a deep equality of 100 KiB arrays is
 * slow); a mismatch shows the lengths and where the bytes first differ.
 */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  const a = buffer(actual);
  const b = buffer(expected);
  if (a.equals(b)) return;
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  const around = (x: Buffer) => x.subarray(Math.max(0, at - 8), at + 16).toString("hex");
  expect({ length: a.length, firstDifference: at, around: around(a) }).toEqual({
    length: b.length,
    firstDifference: at,
    around: around(b),
  });
}

/**
 * `bytes` carried by opaqueMessage through toBinary come back unchanged, and
 * fromBinary reads them as `expected` (or, where `expected` holds a lone
 * surrogate, as a message with the same encoding: UTF-8 has no lone
 * surrogates, so every writer sends U+FFFD).
 */
function expectOpaqueRoundTrip<S extends DescMessage>(
  schema: S,
  bytes: Uint8Array,
  expected: MessageShape<S>,
): void {
  expectBytes(toBinary(schema, opaqueMessage(schema, bytes)), bytes);
  const read = fromBinary(schema, bytes);
  if (!equals(schema, read, expected)) {
    expectBytes(toBinary(schema, read), toBinary(schema, expected));
    expect(JSON.stringify(toJson(schema, expected))).toMatch(/\\ud800/);
  }
}

/** The string as UTF-8 carries it: a lone surrogate becomes U+FFFD. */
const wellFormed = (s: string) => Buffer.from(s, "utf8").toString("utf8");

/** An event as fromBinary reads it back (lone surrogates replaced). */
const readBack = (q: QueuedEvent) =>
  fromBinary(RoomEventSchema, toBinary(RoomEventSchema, q.event));

/** The tail of a QueuedEvent's `field`: the event's own encoding. */
const eventBytes = (q: QueuedEvent) => q.field.subarray(q.field.length - q.size);

describe("writeTimestampField", () => {
  it.each(TIMES)("%d ms: the Timestamp toBinary writes, as a length-delimited field", (ms) => {
    const expected = create(TimestampSchema, timestampFromMs(ms));
    // Independently: whole seconds towards minus infinity, nanos never negative.
    const seconds = Math.floor(ms / 1000);
    expect(expected.seconds).toBe(BigInt(seconds));
    expect(expected.nanos).toBe((ms - seconds * 1000) * 1_000_000);

    for (const field of [1, 3, 6, 16]) {
      const written = writeTimestampField(new BinaryWriter(), field, ms).finish();
      const reader = new BinaryReader(written);
      expect(reader.tag()).toEqual([field, WireType.LengthDelimited]);
      const body = reader.bytes();
      expect(reader.pos).toBe(written.length);
      expectBytes(body, toBinary(TimestampSchema, expected));
      const read: Timestamp = fromBinary(TimestampSchema, body);
      expect(timestampMs(read)).toBe(ms);
      expectOpaqueRoundTrip(TimestampSchema, body, expected);
    }
  });
});

describe("messageEventField and messageEvent", () => {
  it.each(MESSAGES.map((m, i) => [i, m] as const))(
    "message %i: the bytes toBinary writes",
    (_, m) => {
      const expected = chatMessageOf(m);
      expect(equals(ChatMessageSchema, toChatMessage(m), expected)).toBe(true);

      const event = create(RoomEventSchema, { event: { case: "message", value: expected } });
      const bytes = toBinary(RoomEventSchema, event);
      const field = messageEventField(m);
      expectBytes(field, new BinaryWriter().bytes(bytes).finish());
      expectBytes(withoutLength(field), bytes);
      expect(eventStart(field)).toBe(field.length - bytes.length);
      expectOpaqueRoundTrip(RoomEventSchema, withoutLength(field), event);

      const q = messageEvent(m);
      expect(q.seq).toBe(m.seq);
      expect(q.size).toBe(bytes.length);
      expectBytes(eventBytes(q), bytes);
      expectBytes(q.field, field);
      expectBytes(toBinary(RoomEventSchema, q.event), bytes);
    },
  );

  it("refuses a seq or a time it cannot write exactly, naming it", () => {
    const m = MESSAGES[0] as StoredMessage;
    expect(() => messageEventField({ ...m, seq: -1 })).toThrow("message seq -1 is not a uint64");
    expect(() => messageEventField({ ...m, seq: 2 ** 53 })).toThrow(
      `message seq ${2 ** 53} is not a uint64`,
    );
    expect(() => messageEventField({ ...m, sentAtMs: 1.5 })).toThrow(
      "message sent_at 1.5 ms is not a whole number of milliseconds",
    );
  });
});

describe("readyEventField", () => {
  const cases = readyArgs(40);
  it.each(cases.map((args, i) => [i, args[3].length, args] as const))(
    "Ready %i (%i members): the bytes toBinary writes, and the same message",
    (_, _n, args) => {
      const expected = readyEventOf(args);
      const bytes = toBinary(RoomEventSchema, expected);
      const field = readyEventField(...args);
      expectBytes(field, new BinaryWriter().bytes(bytes).finish());
      expectBytes(withoutLength(field), bytes);
      expectOpaqueRoundTrip(RoomEventSchema, withoutLength(field), expected);

      const q = readyEvent(...args);
      expect(q.seq).toBe(0);
      expect(q.size).toBe(bytes.length);
      expectBytes(eventBytes(q), bytes);
      expectBytes(toBinary(RoomEventSchema, q.event), bytes);
      const [room, head, memberId, members] = args;
      expect(fromBinary(RoomEventSchema, bytes).event).toEqual({
        case: "ready",
        value: expect.objectContaining({
          room,
          epoch: head.epoch,
          lastSeq: BigInt(head.lastSeq),
          firstSeq: BigInt(head.firstSeq),
          memberId: wellFormed(memberId),
          members: members.map((m) =>
            expect.objectContaining({ memberId: m.memberId, author: wellFormed(m.author) }),
          ),
        }),
      });
    },
  );

  it("refuses a seq it cannot write exactly, naming it", () => {
    const head = { epoch: "e", lastSeq: 3, firstSeq: 1 };
    expect(() => readyEventField("r", { ...head, lastSeq: 2 ** 53 }, "m", [])).toThrow(
      `ready last_seq ${2 ** 53} is not a uint64`,
    );
    expect(() => readyEventField("r", { ...head, firstSeq: -1 }, "m", [])).toThrow(
      "ready first_seq -1 is not a uint64",
    );
  });
});

// --- Batches of events: SubscribeResponse and ChatResponse.

/** One of every event kind, with texts whose lengths need 1-, 2- and 3-byte varints. */
const EVERY_KIND: QueuedEvent[] = [
  readyEvent("lobby", { epoch: "ep0ch", lastSeq: 7, firstSeq: 1 }, "m1", [
    { memberId: "m0", author: "bob" },
    { memberId: "m1", author: "" },
  ]),
  ...MESSAGES.slice(0, 16).map(messageEvent),
  joinEvent("m2", "carol"),
  leaveEvent("m2", "carol"),
  heartbeatEvent(4),
  typingEvent("ann", false),
  typingEvent("", true),
];

const BATCHES: QueuedEvent[][] = [
  [],
  ...EVERY_KIND.map((q) => [q]),
  EVERY_KIND,
  [...EVERY_KIND, ...EVERY_KIND],
  ...generate(20, (p) =>
    Array.from(
      { length: 1 + p.below(60) },
      () => EVERY_KIND[p.below(EVERY_KIND.length)] as QueuedEvent,
    ),
  ),
];

const EVENT_SCHEMAS = [
  ["SubscribeResponse", SubscribeResponseSchema],
  ["ChatResponse", ChatResponseSchema],
] as const;

describe("event batches", () => {
  it("carry each event's own encoding, length-prefixed", () => {
    for (const q of EVERY_KIND) {
      const bytes = toBinary(RoomEventSchema, q.event);
      expect(q.size).toBe(bytes.length);
      expectBytes(eventBytes(q), bytes);
    }
  });

  for (const [name, schema] of EVENT_SCHEMAS) {
    describe(`as a ${name}`, () => {
      it.each(BATCHES.map((b, i) => [i, b.length, b] as const))(
        "batch %i (%i events): encodeEventBatch writes what toBinary does, with any headroom",
        (_, _n, batch) => {
          const expected = create(schema, { events: batch.map((q) => q.event) });
          const bytes = toBinary(schema, expected);
          expectBytes(encodeEventBatch(batch), bytes);
          for (const headroom of [FRAME_PREFIX_BYTES, 9]) {
            const out = encodeEventBatch(batch, headroom);
            expect(out.length).toBe(headroom + bytes.length);
            expectBytes(out.subarray(headroom), bytes);
          }
          expectOpaqueRoundTrip(schema, encodeEventBatch(batch), expected);
          expect(fromBinary(schema, bytes).events).toEqual(batch.map(readBack));
        },
      );

      it.each(BATCHES.map((b, i) => [i, b.length, b] as const))(
        "batch %i (%i events): a Reply gives binary clients those bytes, JSON clients the message, gRPC one frame",
        (_, _n, batch) => {
          const expected = create(schema, { events: batch.map((q) => q.event) });
          const bytes = toBinary(schema, expected);
          const reply = () => eventsReply(schema, batch);

          const binary = toConnectResponse(schema, reply(), true);
          expectBytes(toBinary(schema, binary), bytes);
          expect(fromBinary(schema, toBinary(schema, binary)).events).toEqual(batch.map(readBack));

          const json = toConnectResponse(schema, reply(), false);
          expect(json.$unknown).toBeUndefined();
          expect(json.events).toEqual(batch.map((q) => q.event));
          if (batch.length > 0) {
            expect(toJson(schema, json)).toEqual({
              events: batch.map((q) => toJson(RoomEventSchema, q.event)),
            });
          }
          expect(toJson(schema, json)).toEqual(toJson(schema, expected));

          expectBytes(toFrame(schema, reply()), encodeEnvelope(0, bytes));
          expectBytes(eventBatchFrame(batch), encodeEnvelope(0, bytes));
          expect(equals(schema, toMessage(reply()), expected)).toBe(true);
        },
      );
    });
  }

  it("frames a lone event once, for every subscriber that gets it alone", () => {
    const [first, second] = EVERY_KIND as [QueuedEvent, QueuedEvent];
    expect(eventBatchFrame([first])).toBe(eventBatchFrame([first]));
    expect(eventBatchFrame([second])).not.toBe(eventBatchFrame([first]));
  });

  it("frames a run of events once for every subscriber whose batch holds exactly those events", () => {
    const [a, b, c, d] = EVERY_KIND as [QueuedEvent, QueuedEvent, QueuedEvent, QueuedEvent];
    const frameOf = (batch: QueuedEvent[]) =>
      encodeEnvelope(
        0,
        toBinary(
          SubscribeResponseSchema,
          create(SubscribeResponseSchema, { events: batch.map((q) => q.event) }),
        ),
      );
    const shared = eventBatchFrame([a, b, c]);
    expect(eventBatchFrame([a, b, c])).toBe(shared);
    expectBytes(shared, frameOf([a, b, c]));
    // Same first and last event and the same length, another event between:
    // each subscriber still gets its own events, in the bytes protobuf-es writes.
    for (const batch of [
      [a, d, c],
      [a, b],
      [a, b, c, d],
      [b, c],
    ]) {
      const frame = eventBatchFrame(batch);
      expect(frame).not.toBe(shared);
      expectBytes(frame, frameOf(batch));
    }
    // The last batch framed from an event is the one kept.
    expectBytes(eventBatchFrame([a, b, c]), frameOf([a, b, c]));
  });
});

describe("which clients get the written bytes", () => {
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

  it("every binary content type, and only those", () => {
    for (const type of BINARY_TYPES) expect(protocolOf(type).encoding, type).toBe("proto");
    for (const type of [...JSON_TYPES, "application/json"]) {
      expect(protocolOf(type).encoding, type).toBe("json");
    }
  });
});

// --- Send.

describe("encodeSendResponse", () => {
  it.each(MESSAGES.map((m, i) => [i, m] as const))(
    "message %i, new and duplicate: the bytes toBinary writes",
    (_, m) => {
      for (const duplicate of [false, true]) {
        const expected = create(SendResponseSchema, { message: chatMessageOf(m), duplicate });
        const bytes = toBinary(SendResponseSchema, expected);
        expectBytes(encodeSendResponse({ message: m, duplicate }), bytes);
        // With the bytes the room already wrote for its subscribers, as Send answers.
        const eventField = messageEvent(m).field;
        expectBytes(encodeSendResponse({ message: m, duplicate }, eventField), bytes);
        expectOpaqueRoundTrip(SendResponseSchema, bytes, expected);

        const reply = () => sendReply({ message: m, duplicate, eventField });
        const binary = toConnectResponse(SendResponseSchema, reply(), true);
        expectBytes(toBinary(SendResponseSchema, binary), bytes);
        const json = toConnectResponse(SendResponseSchema, reply(), false);
        expect(json.$unknown).toBeUndefined();
        expect(equals(SendResponseSchema, json, expected)).toBe(true);
        expectBytes(toFrame(SendResponseSchema, reply()), encodeEnvelope(0, bytes));
      }
    },
  );
});

/** The outcome of a read: the value, or the error's message. */
function outcome<T>(read: () => T): { value: T } | { error: string } {
  try {
    return { value: read() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

const sendFieldsOf = (bytes: Uint8Array) => {
  const { room, author, text, clientMessageId } = fromBinary(SendRequestSchema, bytes);
  return { room, author, text, clientMessageId };
};

/**
 * The fast reader gives protobuf-es's result or throws; where protobuf-es
 * throws, so does the fast reader (the input is bad, and both paths must
 * refuse it).
 */
function expectReadsAsProtobufEs<T>(fast: () => T, reference: () => T): void {
  const got = outcome(fast);
  const want = outcome(reference);
  if ("value" in got) expect(want).toEqual(got);
  if ("error" in want) expect(got).toHaveProperty("error");
}

/** SendRequest encodings: generated fields, then the same with unknown fields and repeats mixed in. */
const SEND_REQUESTS: Uint8Array[] = generate(120, (p) => {
  const bytes = toBinary(
    SendRequestSchema,
    create(SendRequestSchema, {
      room: p.pick(["", "lobby", "é-room"]),
      author: p.pick(TEXTS.filter((t) => t.length < 200)),
      text: p.pick(TEXTS),
      clientMessageId: p.pick(["", "cid-1", "🙂"]),
    }),
  );
  if (p.below(2) === 0) return bytes;
  // Split at field boundaries and mix in unknown fields and repeated known ones.
  const fields: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [no, wireType] = reader.tag();
    reader.skip(wireType, no);
    fields.push(bytes.subarray(start, reader.pos));
  }
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    if (p.below(2) === 0) parts.push(unknownField(p, 4));
    if (p.below(4) === 0) {
      const no = 1 + p.below(4);
      parts.push(
        new BinaryWriter().tag(no, WireType.LengthDelimited).string(`repeat ${no}`).finish(),
      );
    }
    parts.push(f);
  }
  parts.push(unknownField(p, 4));
  return concat(parts);
});

describe("decodeSendRequest", () => {
  it.each(SEND_REQUESTS.map((b, i) => [i, b.length, b] as const))(
    "request %i (%i bytes): what fromBinary reads",
    (_, _n, bytes) => {
      expect(decodeSendRequest(bytes)).toEqual(sendFieldsOf(bytes));
    },
  );

  it("skips unknown fields and keeps the last value of a repeated field, as fromBinary does", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).string("first");
    w.tag(9, WireType.LengthDelimited).string("unknown");
    w.tag(1, WireType.LengthDelimited).string("second");
    w.tag(3, WireType.LengthDelimited).string("text");
    const bytes = w.finish();
    const parsed = sendFieldsOf(bytes);
    expect(decodeSendRequest(bytes)).toEqual(parsed);
    expect(parsed).toEqual({ room: "second", author: "", text: "text", clientMessageId: "" });
  });

  it("refuses malformed UTF-8 in any field, as fromBinary does", () => {
    for (const no of [1, 2, 3, 4]) {
      for (const bad of INVALID_UTF8) {
        const bytes = new BinaryWriter().tag(no, WireType.LengthDelimited).bytes(bad).finish();
        expect(() => fromBinary(SendRequestSchema, bytes)).toThrow();
        expect(() => decodeSendRequest(bytes)).toThrow(/utf-8/i);
      }
    }
  });

  it("gives fromBinary's result or throws for every truncation of a request", () => {
    for (const whole of SEND_REQUESTS.filter((b) => b.length < 400)) {
      for (let end = 0; end < whole.length; end++) {
        const bytes = whole.subarray(0, end);
        expectReadsAsProtobufEs(
          () => decodeSendRequest(bytes),
          () => sendFieldsOf(bytes),
        );
      }
    }
  });
});

// --- Echo.

/** EchoResponse inputs: texts, seqs up to 2^64-1, times. */
const ECHOES: [string, bigint, number][] = [
  ["hello", 1n, 1_763_800_000_123],
  ["", 0n, 0],
  ["😀 ünïcödé", 2n ** 64n - 1n, 999],
  ["x".repeat(70_000), 300n, 1_000],
  ["a", 7n, 1_763_800_000_000],
  ...generate(60, (p): [string, bigint, number] => [
    p.pick(TEXTS),
    p.pick([...SEQS.map(BigInt), 2n ** 64n - 1n]),
    p.pick(TIMES),
  ]),
];

/** EchoRequest encodings: generated texts, half with unknown fields (any number but 1) around the text. */
const ECHO_REQUESTS: Uint8Array[] = generate(80, (p) => {
  const bytes = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: p.pick(TEXTS) }));
  if (p.below(2) === 0) return bytes;
  return concat([unknownField(p, 1), bytes, unknownField(p, 1), unknownField(p, 1)]);
});

describe("the Echo codec", () => {
  it.each(ECHOES.map((c, i) => [i, ...c] as const))(
    "EchoResponse %i: the bytes toBinary writes",
    (_, text, seq, ms) => {
      const expected = create(EchoResponseSchema, {
        text,
        seq,
        receivedAt: timestampFromMs(ms),
      });
      const bytes = toBinary(EchoResponseSchema, expected);
      expectBytes(encodeEchoResponse(text, seq, ms), bytes);
      expectOpaqueRoundTrip(EchoResponseSchema, bytes, expected);

      const reply = () =>
        new Reply(
          () => encodeEchoResponse(text, seq, ms),
          () => expected,
        );
      const binary = toConnectResponse(EchoResponseSchema, reply(), true);
      expectBytes(toBinary(EchoResponseSchema, binary), bytes);
      expect(toConnectResponse(EchoResponseSchema, reply(), false)).toBe(expected);
      expectBytes(toFrame(EchoResponseSchema, reply()), encodeEnvelope(0, bytes));
    },
  );

  it.each(ECHO_REQUESTS.map((b, i) => [i, b.length, b] as const))(
    "EchoRequest %i (%i bytes): what fromBinary reads",
    (_, _n, bytes) => {
      const { text } = fromBinary(EchoRequestSchema, bytes);
      expect(decodeEchoRequestText(bytes)).toBe(text);
      expect(decodeEchoRequest(bytes)).toEqual({ text });
    },
  );

  it("skips unknown fields and keeps the last text, as fromBinary does", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).string("first");
    w.tag(9, WireType.Varint).uint64(5n);
    w.tag(1, WireType.LengthDelimited).string("last");
    w.tag(10, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
    const bytes = w.finish();
    expect(decodeEchoRequestText(bytes)).toBe("last");
    expect(fromBinary(EchoRequestSchema, bytes).text).toBe("last");
  });

  it("refuses malformed UTF-8 and truncated input, as fromBinary does", () => {
    const bad = new Uint8Array([0x0a, 0x02, 0xc3, 0x28]);
    expect(() => fromBinary(EchoRequestSchema, bad)).toThrow();
    expect(() => decodeEchoRequestText(bad)).toThrow(/utf-8/i);
    for (const invalid of INVALID_UTF8) {
      const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(invalid).finish();
      expect(() => fromBinary(EchoRequestSchema, bytes)).toThrow();
      expect(() => decodeEchoRequest(bytes)).toThrow(/utf-8/i);
    }
    const truncated = new Uint8Array([0x0a, 0x05, 0x61]);
    expect(() => fromBinary(EchoRequestSchema, truncated)).toThrow();
    expect(() => decodeEchoRequestText(truncated)).toThrow(/premature EOF|out of range/i);
  });

  it("gives fromBinary's result or throws for every truncation of a request", () => {
    for (const whole of ECHO_REQUESTS.filter((b) => b.length < 400)) {
      for (let end = 0; end < whole.length; end++) {
        const bytes = whole.subarray(0, end);
        expectReadsAsProtobufEs(
          () => decodeEchoRequestText(bytes),
          () => fromBinary(EchoRequestSchema, bytes).text,
        );
      }
    }
  });
});

// --- Known fields sent with another wire type.

describe("a known field sent with another wire type", () => {
  /** Field `no` as a varint, a 64-bit and a 32-bit value, and a group, then a valid text field. */
  const mistyped = (no: number) => [
    new BinaryWriter().tag(no, WireType.Varint).uint32(5).finish(),
    new BinaryWriter().tag(no, WireType.Bit64).fixed64(5n).finish(),
    new BinaryWriter().tag(no, WireType.Bit32).fixed32(5).finish(),
    new BinaryWriter().tag(no, WireType.StartGroup).tag(no, WireType.EndGroup).finish(),
  ];
  const withText = (field: Uint8Array, textNo: number) =>
    concat([
      field,
      new BinaryWriter().tag(textNo, WireType.LengthDelimited).string("hello").finish(),
    ]);

  // protobuf-es does not check a known field's wire type (it reads the value
  // as a string's length, and throws or misreads); the fast readers throw,
  // and the direct gRPC path then answers with protobuf-es's own result.
  it("decodeSendRequest throws, or gives fromBinary's result", () => {
    for (const no of [1, 2, 3, 4]) {
      for (const field of mistyped(no)) {
        const bytes = withText(field, no === 3 ? 1 : 3);
        expect(() => decodeSendRequest(bytes)).toThrow(
          `SendRequest field ${no} arrived as wire type`,
        );
        expectReadsAsProtobufEs(
          () => decodeSendRequest(bytes),
          () => sendFieldsOf(bytes),
        );
      }
    }
  });

  it("decodeEchoRequestText throws, or gives fromBinary's result", () => {
    for (const field of mistyped(1)) {
      const bytes = withText(field, 1);
      expect(() => decodeEchoRequestText(bytes)).toThrow(
        "EchoRequest field 1 arrived as wire type",
      );
      expectReadsAsProtobufEs(
        () => decodeEchoRequestText(field),
        () => fromBinary(EchoRequestSchema, field).text,
      );
      expectReadsAsProtobufEs(
        () => decodeEchoRequestText(bytes),
        () => fromBinary(EchoRequestSchema, bytes).text,
      );
    }
  });
});

// --- Frames.

/** What connect-node's gRPC handler reads from these chunks: the messages, then its error if any. */
async function connectReads(chunks: Uint8Array[], maxBytes: number) {
  const messages: string[] = [];
  try {
    const envelopes = pipe(
      createAsyncIterable(chunks),
      transformSplitEnvelope(maxBytes),
      transformDecompressEnvelope(null, maxBytes),
    );
    for await (const env of envelopes) messages.push(buffer(env.data).toString("hex"));
  } catch (e) {
    const error = ConnectError.from(e);
    return { messages, error: [error.code, error.rawMessage] };
  }
  return { messages };
}

/** What FrameReader reads from the same chunks. */
function frameReaderReads(chunks: Uint8Array[], maxBytes: number) {
  const messages: string[] = [];
  const reader = new FrameReader(maxBytes);
  try {
    for (const chunk of chunks) {
      for (const m of reader.push(Buffer.from(chunk))) messages.push(m.toString("hex"));
    }
    reader.end();
  } catch (e) {
    const error = ConnectError.from(e);
    return { messages, error: [error.code, error.rawMessage] };
  }
  return { messages };
}

/** The stream cut into chunks: whole, byte by byte (when short), and at generated points. */
function chunkings(stream: Uint8Array, p: { below(n: number): number }): Uint8Array[][] {
  const out: Uint8Array[][] = [[stream]];
  if (stream.length < 600) out.push(Array.from(stream, (b) => new Uint8Array([b])));
  for (let k = 0; k < 4; k++) {
    const cuts = Array.from({ length: 1 + p.below(6) }, () => p.below(stream.length + 1)).sort(
      (a, b) => a - b,
    );
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const cut of [...cuts, stream.length]) {
      chunks.push(stream.subarray(at, cut));
      at = cut;
    }
    out.push(chunks);
  }
  return out;
}

const MAX = 70_000;
const MESSAGE_SIZES = [0, 1, 127, 128, 300, 16_384, MAX];

describe("frames", () => {
  it.each(MESSAGE_SIZES)(
    "a %i-byte message: frameMessage and writeFramePrefix write connect's envelope",
    (size) => {
      const message = new Uint8Array(size).map((_, i) => i % 251);
      const envelope = encodeEnvelope(0, message);
      expectBytes(frameMessage(message), envelope);
      const frame = Buffer.alloc(FRAME_PREFIX_BYTES + size, 0xee);
      frame.set(message, FRAME_PREFIX_BYTES);
      expectBytes(writeFramePrefix(frame), envelope);
    },
  );

  const streams = generate(24, (p) => {
    const count = p.below(5);
    const frames = Array.from({ length: count }, () =>
      encodeEnvelope(0, new Uint8Array(p.pick(MESSAGE_SIZES)).fill(p.below(256))),
    );
    // Sometimes a bad frame: compressed, one byte over the limit, or cut short.
    switch (p.below(5)) {
      case 0: {
        const compressed = encodeEnvelope(1, new Uint8Array(p.pick([0, 3])));
        frames.splice(p.below(count + 1), 0, compressed);
        break;
      }
      case 1:
        frames.splice(p.below(count + 1), 0, encodeEnvelope(0, new Uint8Array(MAX + 1)));
        break;
      case 2:
        frames.push(encodeEnvelope(0, new Uint8Array(10)).subarray(0, 1 + p.below(13)));
        break;
    }
    return { stream: concat(frames), p };
  });

  it.each(streams.map((s, i) => [i, s.stream.length, s] as const))(
    "stream %i (%i bytes): FrameReader reads what connect-node's gRPC handler reads, however it is chunked",
    async (_, _n, { stream, p }) => {
      for (const chunks of chunkings(stream, p)) {
        const want = await connectReads(chunks, MAX);
        const got = frameReaderReads(chunks, MAX);
        if (want.error === undefined) expect(got).toEqual(want);
        else {
          expect(got.error).toEqual(want.error);
          // A refusal may come before messages that shared its chunk were handed on.
          expect(want.messages.slice(0, got.messages.length)).toEqual(got.messages);
        }
      }
    },
  );

  it("refuses an oversize message at its prefix, before buffering it", () => {
    const reader = new FrameReader(100);
    expect(reader.push(Buffer.from(encodeEnvelope(0, new Uint8Array(100))))).toHaveLength(1);
    const prefix = Buffer.from(encodeEnvelope(0, new Uint8Array(101)).subarray(0, 5));
    expect(() => reader.push(prefix)).toThrow(
      new ConnectError(
        "message size 101 is larger than configured readMaxBytes 100",
        Code.ResourceExhausted,
      ),
    );
  });

  it("refuses a compressed message and a stream that ends inside a message", () => {
    expect(() => new FrameReader(100).push(Buffer.from([1, 0, 0, 0, 0]))).toThrow(
      new ConnectError(
        "received compressed envelope, but do not know how to decompress",
        Code.Internal,
      ),
    );
    const reader = new FrameReader(100);
    expect(reader.push(Buffer.from([0, 0, 0]))).toEqual([]);
    expect(reader.partial).toBe(true);
    expect(() => reader.end()).toThrow(
      new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument),
    );
  });
});

// --- Reply helpers, on plain messages and on Replies that show which bytes they send.

describe("the Reply helpers (toConnectResponse, toFrame, toMessage)", () => {
  const message = chatMessageOf(MESSAGES[5] as StoredMessage);
  const response = create(SendResponseSchema, { message, duplicate: true });

  it("pass a message through unchanged, for binary and JSON clients", () => {
    expect(toConnectResponse(SendResponseSchema, response, true)).toBe(response);
    expect(toConnectResponse(SendResponseSchema, response, false)).toBe(response);
    expect(toMessage(response)).toBe(response);
  });

  it("frame a message, or an init object as connect-node would create it, as toBinary writes it", () => {
    const bytes = toBinary(SendResponseSchema, response);
    expectBytes(toFrame(SendResponseSchema, response), encodeEnvelope(0, bytes));
    // An init object has no $typeName: connect-node's handlers accept one, and so does toFrame.
    const init = { message, duplicate: true } as unknown as SendResponse;
    expectBytes(toFrame(SendResponseSchema, init), encodeEnvelope(0, bytes));
  });

  it("frame a Reply without a frame of its own from its bytes", () => {
    const bytes = toBinary(SendResponseSchema, response);
    const reply = new Reply(
      () => bytes,
      () => response,
    );
    expectBytes(toFrame(SendResponseSchema, reply), encodeEnvelope(0, bytes));
    expect(toMessage(reply)).toBe(response);
  });

  it("send binary clients a Reply's own bytes and frame, never its message encoded again", () => {
    // A Reply whose bytes are not its message's encoding shows which one each helper sends.
    const own = toBinary(SendResponseSchema, create(SendResponseSchema, { duplicate: true }));
    const frame = encodeEnvelope(0, own);
    const reply = new Reply(
      () => own,
      () => response,
      () => frame,
    );
    const binary = toConnectResponse(SendResponseSchema, reply, true);
    expectBytes(toBinary(SendResponseSchema, binary), own);
    expect(toConnectResponse(SendResponseSchema, reply, false)).toBe(response);
    expect(toFrame(SendResponseSchema, reply)).toBe(frame);
  });

  it("give an empty message for empty bytes", () => {
    const opaque = opaqueMessage(SendResponseSchema, new Uint8Array(0));
    expect(toBinary(SendResponseSchema, opaque)).toHaveLength(0);
    expect(equals(SendResponseSchema, opaque, create(SendResponseSchema))).toBe(true);
  });
});
