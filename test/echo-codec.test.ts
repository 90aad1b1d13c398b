import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { EchoRequestSchema, EchoResponseSchema } from "../gen/chat/v1/chat_pb.js";
import { decodeEchoRequestText, encodeEchoResponse } from "../src/server/grpc-direct/echo-codec.js";
import { contractFields } from "./helpers/contract-fields.js";

// The direct gRPC path reads and writes Echo's messages without protobuf-es's
// reflection; these tests hold it to protobuf-es's own bytes and to the schema.

describe("the direct path's Echo codec", () => {
  it("knows every field the contract gives EchoRequest and EchoResponse", () => {
    expect(contractFields(EchoRequestSchema)).toEqual(["1:text:scalar"]);
    expect(contractFields(EchoResponseSchema)).toEqual([
      "1:text:scalar",
      "2:seq:scalar",
      "3:received_at:message",
    ]);
  });

  const cases: [string, bigint, number][] = [
    ["hello", 1n, 1_763_800_000_123],
    ["", 0n, 0],
    ["😀 ünïcödé", 2n ** 64n - 1n, 999],
    ["x".repeat(70_000), 300n, 1_000],
    ["a", 7n, 1_763_800_000_000],
  ];

  it.each(cases)("writes EchoResponse %# exactly as toBinary does", (text, seq, ms) => {
    const expected = toBinary(
      EchoResponseSchema,
      create(EchoResponseSchema, { text, seq, receivedAt: timestampFromMs(ms) }),
    );
    expect(Buffer.from(encodeEchoResponse(text, seq, ms))).toEqual(Buffer.from(expected));
  });

  it.each(cases)("reads EchoRequest %# as fromBinary does", (text) => {
    const bytes = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text }));
    expect(decodeEchoRequestText(bytes)).toBe(fromBinary(EchoRequestSchema, bytes).text);
  });

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
    const truncated = new Uint8Array([0x0a, 0x05, 0x61]);
    expect(() => fromBinary(EchoRequestSchema, truncated)).toThrow();
    expect(() => decodeEchoRequestText(truncated)).toThrow(/premature EOF|out of range/i);
  });
});
