import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { RoomHead } from "../store/message-log.js";

/**
 * RoomEvent { Ready ready = 5 { room = 1, epoch = 2, last_seq = 3,
 * first_seq = 4, member_id = 5, repeated Member members = 6 { member_id = 1,
 * author = 2 } } }, written field by field: through protobuf-es's reflection
 * a Ready of n members cost about 2.5 KiB of garbage per member, paid by every
 * subscriber of a big room (bench/RESULTS.md, idle scale).
 */
export function encodeReadyEvent(
  room: string,
  head: RoomHead,
  memberId: string,
  members: readonly { memberId: string; author: string }[],
): Uint8Array {
  const w = new BinaryWriter();
  w.tag(5, WireType.LengthDelimited).fork();
  if (room !== "") w.tag(1, WireType.LengthDelimited).string(room);
  if (head.epoch !== "") w.tag(2, WireType.LengthDelimited).string(head.epoch);
  if (head.lastSeq !== 0) w.tag(3, WireType.Varint).uint64(head.lastSeq);
  if (head.firstSeq !== 0) w.tag(4, WireType.Varint).uint64(head.firstSeq);
  if (memberId !== "") w.tag(5, WireType.LengthDelimited).string(memberId);
  for (const m of members) {
    w.tag(6, WireType.LengthDelimited).fork();
    if (m.memberId !== "") w.tag(1, WireType.LengthDelimited).string(m.memberId);
    if (m.author !== "") w.tag(2, WireType.LengthDelimited).string(m.author);
    w.join();
  }
  w.join();
  return w.finish();
}

/**
 * The bytes that follow a length-delimited field's tag for this encoded
 * message (its length as a varint, then the bytes): how each event sits in
 * `repeated RoomEvent events = 1`.
 */
export function lengthDelimited(bytes: Uint8Array): Uint8Array {
  return new BinaryWriter().bytes(bytes).finish();
}
