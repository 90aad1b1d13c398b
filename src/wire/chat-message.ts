import { type BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { StoredMessage } from "../store/message-log.js";
import { writeTimestampField } from "./timestamp.js";

/**
 * ChatMessage { room = 1; uint64 seq = 2; id = 3; author = 4; text = 5;
 * google.protobuf.Timestamp sent_at = 6; client_message_id = 7; } written
 * field by field into `w`, as toBinary writes it (test/unit/wire-contract.test.ts
 * holds the bytes and the field list to the contract). Every Send encodes
 * its message this way twice, for the room event and for the response, where
 * protobuf-es's reflection cost several times as much.
 */
export function writeChatMessage(w: BinaryWriter, m: StoredMessage): BinaryWriter {
  if (m.room !== "") w.tag(1, WireType.LengthDelimited).string(m.room);
  if (m.seq !== 0) w.tag(2, WireType.Varint).uint64(m.seq);
  if (m.id !== "") w.tag(3, WireType.LengthDelimited).string(m.id);
  if (m.author !== "") w.tag(4, WireType.LengthDelimited).string(m.author);
  if (m.text !== "") w.tag(5, WireType.LengthDelimited).string(m.text);
  writeTimestampField(w, 6, m.sentAtMs);
  if (m.clientMessageId !== "") w.tag(7, WireType.LengthDelimited).string(m.clientMessageId);
  return w;
}
