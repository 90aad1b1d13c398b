import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * Echo's two messages, read and written field by field instead of through
 * protobuf-es's reflection, which took about 40% of the server's time under
 * the echo benchmark (bench/RESULTS.md). The output is byte for byte what
 * toBinary writes, and the fields known here are checked against the schema
 * by test/echo-codec.test.ts, which fails when chat.proto changes either
 * message.
 */

/** EchoRequest { string text = 1; }: the text; other fields are skipped as unknown. */
export function decodeEchoRequestText(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  let text = "";
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    // Strict: malformed UTF-8 throws, as protobuf-es does.
    if (field === 1 && wireType === WireType.LengthDelimited) text = reader.string(true);
    else reader.skip(wireType, field);
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
  const seconds = Math.floor(receivedAtMs / 1000);
  const nanos = (receivedAtMs - seconds * 1000) * 1_000_000;
  w.tag(3, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
  return w.finish();
}
