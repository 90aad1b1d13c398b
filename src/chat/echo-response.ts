import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type EchoResponse, EchoResponseSchema } from "../../gen/chat/v1/chat_pb.js";

/** Echo's answer to the request at position `seq` (1, 2, ...) of its stream. */
export function echoResponse(text: string, seq: bigint): EchoResponse {
  return create(EchoResponseSchema, { text, seq, receivedAt: timestampNow() });
}
