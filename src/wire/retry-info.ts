import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; } with
 * Duration { int64 seconds = 1; int32 nanos = 2; }, written field by field:
 * the error details carry it as bytes, so the google.rpc protos need not be
 * part of the contract. test/unit/identity/retry-info.test.ts reads it back
 * with protobuf-es's Duration.
 */
export function encodeRetryInfo(delayMs: number): Uint8Array {
  const seconds = Math.floor(delayMs / 1000);
  const nanos = Math.round((delayMs - seconds * 1000) * 1_000_000);
  const w = new BinaryWriter().tag(1, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  return w.join().finish();
}
