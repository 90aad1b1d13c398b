import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeGrpcMessage } from "../grpc-message.js";

/** Trailers of a call that succeeded. */
export const OK_TRAILERS: Readonly<Record<string, string>> = { "grpc-status": "0" };

/** The type URL prefix google.protobuf.Any uses for every message type. */
const TYPE_URL_PREFIX = "type.googleapis.com/";

/**
 * google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }
 * with Any { string type_url = 1; bytes value = 2; }, written field by field:
 * the two messages are all this path needs of the google.rpc protos.
 */
function encodeStatus(error: ConnectError): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 0).int32(error.code);
  if (error.rawMessage !== "") w.tag(2, 2).string(error.rawMessage);
  for (const detail of error.details) {
    const [typeName, value] =
      "desc" in detail
        ? [detail.desc.typeName, toBinary(detail.desc, create(detail.desc, detail.value))]
        : [detail.type, detail.value];
    w.tag(3, 2).fork();
    w.tag(1, 2).string(TYPE_URL_PREFIX + typeName);
    w.tag(2, 2).bytes(value);
    w.join();
  }
  return w.finish();
}

/**
 * The grpc-status, grpc-message and (when the error has details)
 * grpc-status-details-bin fields for an error, as the gRPC spec writes them;
 * anything that is not a ConnectError is reported as connect does it.
 */
export function errorTrailers(reason: unknown): Record<string, string> {
  const error = ConnectError.from(reason);
  const trailers: Record<string, string> = {
    "grpc-status": String(error.code),
    "grpc-message": encodeGrpcMessage(error.rawMessage),
  };
  if (error.details.length > 0) {
    trailers["grpc-status-details-bin"] = Buffer.from(encodeStatus(error)).toString("base64");
  }
  return trailers;
}

const TIMEOUT_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * The grpc-timeout header in milliseconds (undefined when absent): at most
 * eight digits and a unit, as the gRPC spec defines it.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(Array.isArray(value) ? (value[0] ?? "") : value);
  if (!match) {
    throw new ConnectError(
      `grpc-timeout header "${String(value)}" is not 1-8 digits followed by one of H M S m u n`,
      Code.InvalidArgument,
    );
  }
  return Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] as string] as number);
}
