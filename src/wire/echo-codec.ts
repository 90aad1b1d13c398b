import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { mistyped } from "./mistyped.js";
import { writeTimestampField } from "./timestamp.js";

/**
 * Echo's two messages, read and written field by field instead of through
 * protobuf-es's reflection, which took about 40% of the server's time under
 * the echo benchmark (bench/RESULTS.md). The output is byte for byte what
 * toBinary writes, and the fields known here are checked against the schema
 * by test/unit/wire-contract.test.ts, which fails when chat.proto changes either
 * message.
 */

/**
 * EchoRequest { string text = 1; }: the text; other fields are skipped as
 * unknown, and field 1 with another wire type throws (see mistyped).
 */
export function decodeEchoRequestText(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  let text = "";
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== 1) reader.skip(wireType, field);
    else if (wireType !== WireType.LengthDelimited) throw mistyped("EchoRequest", field, wireType);
    // Strict: malformed UTF-8 throws, as protobuf-es does.
    else text = reader.string(true);
  }
  return text;
}

/**
 * EchoResponse { string text = 1; uint64 seq = 2; google.protobuf.Timestamp
 * received_at = 3; } with received_at = `receivedAtMs`; zero values are left
 * out as proto3 writers do.
 */
export function encodeEchoResponse(text: string, seq: bigint, receivedAtMs: number): Uint8Array {
  const w = new BinaryWriter();
  if (text !== "") w.tag(1, WireType.LengthDelimited).string(text);
  if (seq !== 0n) w.tag(2, WireType.Varint).uint64(seq);
  return writeTimestampField(w, 3, receivedAtMs).finish();
}

/** EchoRequest as the Echo core reads it. */
export function decodeEchoRequest(bytes: Uint8Array): { text: string } {
  return { text: decodeEchoRequestText(bytes) };
}
