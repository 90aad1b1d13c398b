import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { SendRequest } from "../../gen/chat/v1/chat_pb.js";
import type { AppendResult } from "../store/message-log.js";
import { writeChatMessage } from "./chat-message.js";
import { mistyped } from "./mistyped.js";

/** The fields of a Send request. */
export type SendFields = Pick<SendRequest, "room" | "author" | "text" | "clientMessageId">;

/**
 * Send's two messages, read and written field by field: with protobuf-es's
 * reflection, decoding the request and building and encoding the response
 * took about a fifth of the server's busy time under the durable-append load
 * (bench/RESULTS.md). test/unit/wire-contract.test.ts holds both to protobuf-es's
 * bytes and to the contract's field lists.
 */

/**
 * SendRequest { room = 1; author = 2; text = 3; client_message_id = 4; }
 * (all strings); unknown fields are skipped, strings must be valid UTF-8.
 * A known field with another wire type throws (see mistyped).
 */
export function decodeSendRequest(bytes: Uint8Array): SendFields {
  const reader = new BinaryReader(bytes);
  const req: SendFields = { room: "", author: "", text: "", clientMessageId: "" };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field < 1 || field > 4) {
      reader.skip(wireType, field);
      continue;
    }
    if (wireType !== WireType.LengthDelimited) throw mistyped("SendRequest", field, wireType);
    const value = reader.string(true);
    if (field === 1) req.room = value;
    else if (field === 2) req.author = value;
    else if (field === 3) req.text = value;
    else req.clientMessageId = value;
  }
  return req;
}

/** SendResponse { ChatMessage message = 1; bool duplicate = 2; } */
export function encodeSendResponse(result: AppendResult): Uint8Array {
  const w = new BinaryWriter().tag(1, WireType.LengthDelimited).fork();
  writeChatMessage(w, result.message).join();
  if (result.duplicate) w.tag(2, WireType.Varint).bool(true);
  return w.finish();
}
