import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import {
  ChatMessageSchema,
  RoomEventSchema,
  SendRequestSchema,
  SendResponseSchema,
} from "../gen/chat/v1/chat_pb.js";
import { messageEvent, toChatMessage } from "../src/rooms/room-event.js";
import { decodeSendRequest, encodeSendResponse } from "../src/server/grpc-direct/send-codec.js";
import type { StoredMessage } from "../src/store/message-log.js";
import { contractFields } from "./helpers/contract-fields.js";

// Send's request and response and the stored message are read and written
// field by field on the hot path; these tests hold them to protobuf-es's own
// bytes and to the contract's field lists.

const stored = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  room: "lobby",
  seq: 42,
  id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  author: "ann",
  text: "hello 🙂 ünïcödé",
  sentAtMs: 1_763_800_000_123,
  clientMessageId: "cid-1",
  ...over,
});

const MESSAGES: [string, StoredMessage][] = [
  ["typical", stored()],
  ["no client id", stored({ clientMessageId: "" })],
  ["seq 1, whole second", stored({ seq: 1, sentAtMs: 1_763_800_000_000 })],
  ["big seq, long text", stored({ seq: 2 ** 40, text: "x".repeat(500) })],
  ["epoch time", stored({ sentAtMs: 0, author: "" })],
];

describe("field-by-field codecs", () => {
  it("know every field the contract gives ChatMessage, SendRequest and SendResponse", () => {
    expect(contractFields(ChatMessageSchema)).toEqual([
      "1:room:scalar",
      "2:seq:scalar",
      "3:id:scalar",
      "4:author:scalar",
      "5:text:scalar",
      "6:sent_at:message",
      "7:client_message_id:scalar",
    ]);
    expect(contractFields(SendRequestSchema)).toEqual([
      "1:room:scalar",
      "2:author:scalar",
      "3:text:scalar",
      "4:client_message_id:scalar",
    ]);
    expect(contractFields(SendResponseSchema)).toEqual(["1:message:message", "2:duplicate:scalar"]);
    expect(RoomEventSchema.field.message?.number).toBe(1);
  });

  it.each(MESSAGES)("write a message event (%s) as toBinary does", (_, m) => {
    const q = messageEvent(m);
    const expected = toBinary(
      RoomEventSchema,
      create(RoomEventSchema, { event: { case: "message", value: toChatMessage(m) } }),
    );
    expect(q.size).toBe(expected.length);
    expect(Buffer.from(q.field.subarray(q.field.length - q.size))).toEqual(Buffer.from(expected));
    expect(toBinary(RoomEventSchema, q.event)).toEqual(expected);
    expect(q.seq).toBe(m.seq);
  });

  it.each(MESSAGES)("write a SendResponse (%s) as toBinary does", (_, m) => {
    for (const duplicate of [false, true]) {
      const expected = toBinary(
        SendResponseSchema,
        create(SendResponseSchema, { message: toChatMessage(m), duplicate }),
      );
      expect(Buffer.from(encodeSendResponse({ message: m, duplicate }))).toEqual(
        Buffer.from(expected),
      );
    }
  });

  it.each(MESSAGES)("read a SendRequest (%s) as fromBinary does", (_, m) => {
    const bytes = toBinary(
      SendRequestSchema,
      create(SendRequestSchema, {
        room: m.room,
        author: m.author,
        text: m.text,
        clientMessageId: m.clientMessageId,
      }),
    );
    const { room, author, text, clientMessageId } = fromBinary(SendRequestSchema, bytes);
    expect(decodeSendRequest(bytes)).toEqual({ room, author, text, clientMessageId });
  });

  it("skip unknown fields and keep the last value of a repeated field, as fromBinary does", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).string("first");
    w.tag(9, WireType.LengthDelimited).string("unknown");
    w.tag(1, WireType.LengthDelimited).string("second");
    w.tag(3, WireType.LengthDelimited).string("text");
    const bytes = w.finish();
    const parsed = fromBinary(SendRequestSchema, bytes);
    expect(decodeSendRequest(bytes)).toEqual({
      room: parsed.room,
      author: parsed.author,
      text: parsed.text,
      clientMessageId: parsed.clientMessageId,
    });
    expect(parsed.room).toBe("second");
  });

  it("refuse malformed UTF-8 in a SendRequest, as fromBinary does", () => {
    const bad = new Uint8Array([0x1a, 0x02, 0xc3, 0x28]);
    expect(() => fromBinary(SendRequestSchema, bad)).toThrow();
    expect(() => decodeSendRequest(bad)).toThrow(/utf-8/i);
  });
});
