import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { RoomHead } from "../store/message-log.js";
import {
  assertUint64,
  LENGTH_DELIMITED,
  stringFieldSize,
  tag,
  uint64FieldSize,
  utf8Length,
  varintSize,
  writeString,
  writeUint64,
  writeVarint,
} from "./field-writer.js";

/**
 * RoomEvent { Ready ready = 5 { room = 1, epoch = 2, last_seq = 3,
 * first_seq = 4, member_id = 5, repeated Member members = 6 { member_id = 1,
 * author = 2 } } }, preceded by its length as a varint (the form an event
 * takes in `repeated RoomEvent events = 1`, QueuedEvent.field). Every
 * subscriber gets its own Ready, listing the room's members, so a room of n
 * members writes n of them as it fills. They are written straight into one
 * buffer, where protobuf-es's BinaryWriter made a fork, an encoded array per
 * string and a join per member: opening 9,900 streams in rooms of 100 took
 * about a fifth less server CPU (bench/RESULTS.md, "Issue 22, fifth
 * session"). test/unit/wire-contract.test.ts holds it to toBinary's bytes.
 */
export function readyEventField(
  room: string,
  head: RoomHead,
  memberId: string,
  members: readonly { memberId: string; author: string }[],
): Buffer {
  assertUint64("ready last_seq", head.lastSeq);
  assertUint64("ready first_seq", head.firstSeq);
  const roomLength = utf8Length(room);
  const epochLength = utf8Length(head.epoch);
  const memberIdLength = utf8Length(memberId);
  // Each member's two string lengths, then its body's size: read once, used twice.
  const lengths = new Array<number>(members.length * 3);
  let ready =
    stringFieldSize(roomLength) +
    stringFieldSize(epochLength) +
    uint64FieldSize(head.lastSeq) +
    uint64FieldSize(head.firstSeq) +
    stringFieldSize(memberIdLength);
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as { memberId: string; author: string };
    const id = utf8Length(m.memberId);
    const author = utf8Length(m.author);
    const body = stringFieldSize(id) + stringFieldSize(author);
    lengths[i * 3] = id;
    lengths[i * 3 + 1] = author;
    lengths[i * 3 + 2] = body;
    ready += 1 + varintSize(body) + body;
  }
  const event = 1 + varintSize(ready) + ready;
  const out = Buffer.allocUnsafe(varintSize(event) + event);
  let pos = writeVarint(out, 0, event);
  out[pos++] = tag(5, LENGTH_DELIMITED);
  pos = writeVarint(out, pos, ready);
  pos = writeString(out, pos, 1, room, roomLength);
  pos = writeString(out, pos, 2, head.epoch, epochLength);
  pos = writeUint64(out, pos, 3, head.lastSeq);
  pos = writeUint64(out, pos, 4, head.firstSeq);
  pos = writeString(out, pos, 5, memberId, memberIdLength);
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as { memberId: string; author: string };
    out[pos++] = tag(6, LENGTH_DELIMITED);
    pos = writeVarint(out, pos, lengths[i * 3 + 2] as number);
    pos = writeString(out, pos, 1, m.memberId, lengths[i * 3] as number);
    pos = writeString(out, pos, 2, m.author, lengths[i * 3 + 1] as number);
  }
  if (pos !== out.length) {
    throw new Error(`ready event writer: wrote ${pos} bytes of ${out.length}`);
  }
  return out;
}

/**
 * The bytes that follow a length-delimited field's tag for this encoded
 * message (its length as a varint, then the bytes): how each event sits in
 * `repeated RoomEvent events = 1`.
 */
export function lengthDelimited(bytes: Uint8Array): Uint8Array {
  return new BinaryWriter().bytes(bytes).finish();
}
