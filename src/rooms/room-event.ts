import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type ChatMessage,
  ChatMessageSchema,
  type RoomEvent,
  RoomEventSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { RoomHead, StoredMessage } from "../store/message-log.js";

/**
 * A room event on its way to subscribers. It is built and encoded once per
 * occurrence and shared by every subscriber's queue: a response to a binary
 * client reuses `field`, never encoding the event again.
 */
export interface QueuedEvent {
  readonly event: RoomEvent;
  /**
   * The event's protobuf encoding preceded by its length (a varint): the
   * bytes that follow a length-delimited field's tag, as in
   * `repeated RoomEvent events = 1`.
   */
  readonly field: Uint8Array;
  /** The message seq, or 0 for ephemeral events (join, leave, heartbeat). */
  readonly seq: number;
  /** Encoded size in bytes, charged against each subscriber's queue budget. */
  readonly size: number;
  /** A member that must not receive this event (its own join or leave). */
  readonly skipMember?: string;
}

/** The protobuf form of a stored message. */
export function toChatMessage(m: StoredMessage): ChatMessage {
  return create(ChatMessageSchema, {
    room: m.room,
    seq: BigInt(m.seq),
    id: m.id,
    author: m.author,
    text: m.text,
    sentAt: timestampFromMs(m.sentAtMs),
    clientMessageId: m.clientMessageId,
  });
}

/** Encode an event once, for every subscriber that will receive it. */
export function queuedEvent(event: RoomEvent, seq: number, skipMember?: string): QueuedEvent {
  const bytes = toBinary(RoomEventSchema, event);
  const field = new BinaryWriter().bytes(bytes).finish();
  const size = bytes.byteLength;
  return skipMember === undefined
    ? { event, field, seq, size }
    : { event, field, seq, size, skipMember };
}

/**
 * ChatMessage { room = 1; uint64 seq = 2; id = 3; author = 4; text = 5;
 * google.protobuf.Timestamp sent_at = 6; client_message_id = 7; } written
 * field by field into `w`, as toBinary writes it (test/message-codecs.test.ts
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
  const seconds = Math.floor(m.sentAtMs / 1000);
  const nanos = (m.sentAtMs - seconds * 1000) * 1_000_000;
  w.tag(6, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
  if (m.clientMessageId !== "") w.tag(7, WireType.LengthDelimited).string(m.clientMessageId);
  return w;
}

/**
 * An event from its encoding (RoomEvent's bytes). The message object, needed
 * only by JSON clients and in-process consumers, is built when first asked for.
 */
function encodedEvent(bytes: Uint8Array, seq: number, build: () => RoomEvent): QueuedEvent {
  let event: RoomEvent | undefined;
  return {
    get event() {
      event ??= build();
      return event;
    },
    field: new BinaryWriter().bytes(bytes).finish(),
    seq,
    size: bytes.byteLength,
  };
}

/** A stored message as an event: RoomEvent.message = 1. */
export function messageEvent(m: StoredMessage): QueuedEvent {
  const w = new BinaryWriter().tag(1, WireType.LengthDelimited).fork();
  const bytes = writeChatMessage(w, m).join().finish();
  return encodedEvent(bytes, m.seq, () =>
    create(RoomEventSchema, { event: { case: "message", value: toChatMessage(m) } }),
  );
}

/** Another member joined; not delivered to that member itself. */
export function joinEvent(memberId: string, author: string): QueuedEvent {
  return queuedEvent(
    create(RoomEventSchema, { event: { case: "join", value: { memberId, author } } }),
    0,
    memberId,
  );
}

/** Another member left; not delivered to that member itself. */
export function leaveEvent(memberId: string, author: string): QueuedEvent {
  return queuedEvent(
    create(RoomEventSchema, { event: { case: "leave", value: { memberId, author } } }),
    0,
    memberId,
  );
}

/** An idle stream's keep-alive, with the room's last seq. */
export function heartbeatEvent(lastSeq: number): QueuedEvent {
  return queuedEvent(
    create(RoomEventSchema, {
      event: {
        case: "heartbeat",
        value: { at: timestampFromMs(Date.now()), lastSeq: BigInt(lastSeq) },
      },
    }),
    0,
  );
}

/**
 * The first event of every subscription, with who was subscribed when it
 * attached. Written field by field (RoomEvent.ready = 5 { room = 1, epoch = 2,
 * last_seq = 3, first_seq = 4, member_id = 5, repeated Member members = 6
 * { member_id = 1, author = 2 } }): through protobuf-es's reflection a Ready
 * of n members cost about 2.5 KiB of garbage per member, paid by every
 * subscriber of a big room (bench/RESULTS.md, idle scale). The bytes are what
 * toBinary writes (test/event-responses.test.ts).
 */
export function readyEvent(
  room: string,
  head: RoomHead,
  memberId: string,
  members: readonly { memberId: string; author: string }[] = [],
): QueuedEvent {
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
  const bytes = w.finish();
  return encodedEvent(bytes, 0, () =>
    create(RoomEventSchema, {
      event: {
        case: "ready",
        value: {
          room,
          epoch: head.epoch,
          lastSeq: BigInt(head.lastSeq),
          firstSeq: BigInt(head.firstSeq),
          memberId,
          members: members.map((m) => ({ memberId: m.memberId, author: m.author })),
        },
      },
    }),
  );
}
