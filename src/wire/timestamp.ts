import { type BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; } for a
 * time in milliseconds, written as field `field` of the message open in `w`
 * (zero values left out, as toBinary writes them).
 */
export function writeTimestampField(w: BinaryWriter, field: number, ms: number): BinaryWriter {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  w.tag(field, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  return w.join();
}
