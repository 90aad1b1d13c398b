import { WireType } from "@bufbuild/protobuf/wire";

/**
 * The error of a fast reader that met a known field under another wire type.
 * protobuf-es does not check a known field's wire type: it reads the bytes as
 * the declared type and throws or misreads. A fast reader cannot promise the
 * same misreading, so it throws instead, and the caller hands the bytes to
 * protobuf-es, whose answer (error or value) is then the one sent: both paths
 * answer alike (test/unit/wire-contract.test.ts, test/e2e/protocols/grpc-differential.test.ts).
 */
export function mistyped(message: string, field: number, wireType: WireType): Error {
  return new Error(
    `${message} field ${field} arrived as wire type ${WireType[wireType]}, not LengthDelimited`,
  );
}
