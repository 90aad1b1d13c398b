import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";

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

/**
 * The wait, in ms, that a google.rpc.RetryInfo detail of `error` asks for
 * (the first one), or undefined when the error carries none or it does not
 * parse. Clients use it to pace themselves after RESOURCE_EXHAUSTED.
 */
export function retryDelayMs(error: ConnectError): number | undefined {
  for (const detail of error.details) {
    if (!("type" in detail) || detail.type !== "google.rpc.RetryInfo") continue;
    try {
      const reader = new BinaryReader(detail.value);
      while (reader.pos < reader.len) {
        const [field, wireType] = reader.tag();
        if (field !== 1 || wireType !== WireType.LengthDelimited) {
          reader.skip(wireType);
          continue;
        }
        const delay = fromBinary(DurationSchema, reader.bytes());
        return Number(delay.seconds) * 1000 + delay.nanos / 1_000_000;
      }
    } catch {
      return undefined;
    }
  }
  return undefined;
}
