import type { StoredMessage } from "../store/message-log.js";
import {
  assertUint64,
  LENGTH_DELIMITED,
  stringFieldSize,
  tag,
  utf8Length,
  VARINT,
  varintSize,
  writeString,
  writeVarint,
} from "./field-writer.js";

/**
 * A stored message as `RoomEvent { ChatMessage message = 1 }`, preceded by
 * the event's length (a varint): the form an event takes inside `repeated
 * RoomEvent events = 1`, which is QueuedEvent.field. It is written straight
 * into one buffer: each string's UTF-8 length is read first, so nothing is
 * encoded twice or copied, where protobuf-es's BinaryWriter (encode each
 * string to a new array, fork, join, concatenate) cost about a tenth of a
 * unary Send (bench/RESULTS.md, "Issue 22, fourth session").
 *
 * The event's own bytes are the tail after the length (withoutLength).
 * They are also SendResponse's bytes for a message that is not a duplicate,
 * since SendResponse carries the message as field 1 too.
 * test/unit/wire-contract.test.ts holds all three to toBinary's bytes.
 *
 * ChatMessage { room = 1; uint64 seq = 2; id = 3; author = 4; text = 5;
 * google.protobuf.Timestamp sent_at = 6; client_message_id = 7; }, zero
 * values left out except sent_at, which toBinary always writes.
 */
export function messageEventField(m: StoredMessage): Buffer {
  assertUint64("message seq", m.seq);
  if (!Number.isSafeInteger(m.sentAtMs)) {
    throw new RangeError(`message sent_at ${m.sentAtMs} ms is not a whole number of milliseconds`);
  }
  const room = utf8Length(m.room);
  const id = utf8Length(m.id);
  const author = utf8Length(m.author);
  const text = utf8Length(m.text);
  const clientMessageId = utf8Length(m.clientMessageId);
  const seconds = Math.floor(m.sentAtMs / 1000);
  const nanos = (m.sentAtMs - seconds * 1000) * 1_000_000;
  const timestamp =
    (seconds === 0 ? 0 : 1 + int64Size(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
  const message =
    stringFieldSize(room) +
    (m.seq === 0 ? 0 : 1 + varintSize(m.seq)) +
    stringFieldSize(id) +
    stringFieldSize(author) +
    stringFieldSize(text) +
    1 +
    varintSize(timestamp) +
    timestamp +
    stringFieldSize(clientMessageId);
  const event = 1 + varintSize(message) + message;
  const out = Buffer.allocUnsafe(varintSize(event) + event);
  let pos = writeVarint(out, 0, event);
  out[pos++] = tag(1, LENGTH_DELIMITED);
  pos = writeVarint(out, pos, message);
  pos = writeString(out, pos, 1, m.room, room);
  if (m.seq !== 0) {
    out[pos++] = tag(2, VARINT);
    pos = writeVarint(out, pos, m.seq);
  }
  pos = writeString(out, pos, 3, m.id, id);
  pos = writeString(out, pos, 4, m.author, author);
  pos = writeString(out, pos, 5, m.text, text);
  out[pos++] = tag(6, LENGTH_DELIMITED);
  pos = writeVarint(out, pos, timestamp);
  if (seconds !== 0) {
    out[pos++] = tag(1, VARINT);
    pos = seconds > 0 ? writeVarint(out, pos, seconds) : writeNegativeInt64(out, pos, seconds);
  }
  if (nanos !== 0) {
    out[pos++] = tag(2, VARINT);
    pos = writeVarint(out, pos, nanos);
  }
  pos = writeString(out, pos, 7, m.clientMessageId, clientMessageId);
  if (pos !== out.length) {
    throw new Error(`message event writer: wrote ${pos} bytes of ${out.length}`);
  }
  return out;
}

/** A negative int64 is its 64-bit two's complement: always 10 bytes. */
const int64Size = (n: number) => (n < 0 ? 10 : varintSize(n));

/** Times before 1970 only: rare enough for BigInt. */
function writeNegativeInt64(out: Buffer, pos: number, n: number): number {
  let v = BigInt.asUintN(64, BigInt(n));
  while (v >= 0x80n) {
    out[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[pos++] = Number(v);
  return pos;
}
