import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type ChatMessage,
  ChatMessageSchema,
  type RoomEvent,
  RoomEventSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { RoomHead, StoredMessage } from "../store/message-log.js";
import { eventStart } from "../wire/field-writer.js";
import { messageEventField } from "../wire/message-event.js";
import { lengthDelimited, readyEventField } from "../wire/room-event.js";

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
  const field = lengthDelimited(bytes);
  const size = bytes.byteLength;
  return skipMember === undefined
    ? { event, field, seq, size }
    : { event, field, seq, size, skipMember };
}

/**
 * An event from its encoding: `field` is the event's bytes preceded by their
 * length, of which the last `size` bytes are the event. The message object,
 * needed only by JSON clients and in-process consumers, is built when first
 * asked for.
 */
function encodedEvent(
  field: Uint8Array,
  size: number,
  seq: number,
  build: () => RoomEvent,
): QueuedEvent {
  let event: RoomEvent | undefined;
  return {
    get event() {
      event ??= build();
      return event;
    },
    field,
    seq,
    size,
  };
}

/** A stored message as an event: RoomEvent.message = 1, written in one buffer. */
export function messageEvent(m: StoredMessage): QueuedEvent {
  const field = messageEventField(m);
  return encodedEvent(field, field.length - eventStart(field), m.seq, () =>
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
 * attached; its bytes are written field by field (src/wire/room-event.ts).
 */
export function readyEvent(
  room: string,
  head: RoomHead,
  memberId: string,
  members: readonly { memberId: string; author: string }[] = [],
): QueuedEvent {
  const field = readyEventField(room, head, memberId, members);
  return encodedEvent(field, field.length - eventStart(field), 0, () =>
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
