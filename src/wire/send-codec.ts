import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { SendRequest } from "../../gen/chat/v1/chat_pb.js";
import type { AppendResult } from "../store/message-log.js";
import { eventStart } from "./field-writer.js";
import { messageEventField } from "./message-event.js";
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

/**
 * SendResponse { ChatMessage message = 1; bool duplicate = 2; }. Its first
 * field is laid out as RoomEvent's message = 1, so a message the room has
 * already encoded for its subscribers (`eventField`, QueuedEvent.field of
 * that message) is answered with those bytes, not encoded again.
 */
export function encodeSendResponse(result: AppendResult, eventField?: Uint8Array): Uint8Array {
  const field = eventField ?? messageEventField(result.message);
  const start = eventStart(field);
  if (!result.duplicate) return field.subarray(start);
  const out = Buffer.allocUnsafe(field.length - start + DUPLICATE_TRUE.length);
  out.set(field.subarray(start));
  out.set(DUPLICATE_TRUE, out.length - DUPLICATE_TRUE.length);
  return out;
}

/** `duplicate = 2` set: tag (field 2, varint), then true. */
const DUPLICATE_TRUE = Uint8Array.of(0x10, 0x01);
