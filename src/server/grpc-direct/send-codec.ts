import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { SendFields } from "../../chat/send-message.js";
import { writeChatMessage } from "../../rooms/room-event.js";
import type { AppendResult } from "../../store/message-log.js";

/**
 * Send's two messages, read and written field by field: with protobuf-es's
 * reflection, decoding the request and building and encoding the response
 * took about a fifth of the server's busy time under the durable-append load
 * (bench/RESULTS.md). test/message-codecs.test.ts holds both to protobuf-es's
 * bytes and to the contract's field lists.
 */

/**
 * SendRequest { room = 1; author = 2; text = 3; client_message_id = 4; }
 * (all strings); unknown fields are skipped, strings must be valid UTF-8.
 */
export function decodeSendRequest(bytes: Uint8Array): SendFields {
  const reader = new BinaryReader(bytes);
  const req: SendFields = { room: "", author: "", text: "", clientMessageId: "" };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited || field < 1 || field > 4) {
      reader.skip(wireType, field);
      continue;
    }
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
