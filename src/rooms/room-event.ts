import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type ChatMessage,
  ChatMessageSchema,
  type RoomEvent,
  RoomEventSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { RoomHead, StoredMessage } from "../store/message-log.js";

/**
 * A room event on its way to subscribers. It is built once per occurrence and
 * shared by every subscriber's queue.
 */
export interface QueuedEvent {
  readonly event: RoomEvent;
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

function queued(event: RoomEvent, seq: number, skipMember?: string): QueuedEvent {
  const size = toBinary(RoomEventSchema, event).byteLength;
  return skipMember === undefined ? { event, seq, size } : { event, seq, size, skipMember };
}

/** A stored message as an event. */
export function messageEvent(m: StoredMessage): QueuedEvent {
  return queued(
    create(RoomEventSchema, { event: { case: "message", value: toChatMessage(m) } }),
    m.seq,
  );
}

/** Another member joined; not delivered to that member itself. */
export function joinEvent(memberId: string, author: string): QueuedEvent {
  return queued(
    create(RoomEventSchema, { event: { case: "join", value: { memberId, author } } }),
    0,
    memberId,
  );
}

/** Another member left; not delivered to that member itself. */
export function leaveEvent(memberId: string, author: string): QueuedEvent {
  return queued(
    create(RoomEventSchema, { event: { case: "leave", value: { memberId, author } } }),
    0,
    memberId,
  );
}

/** An idle stream's keep-alive, with the room's last seq. */
export function heartbeatEvent(lastSeq: number): QueuedEvent {
  return queued(
    create(RoomEventSchema, {
      event: {
        case: "heartbeat",
        value: { at: timestampFromMs(Date.now()), lastSeq: BigInt(lastSeq) },
      },
    }),
    0,
  );
}

/** The first event of every subscription, with who was subscribed when it attached. */
export function readyEvent(
  room: string,
  head: RoomHead,
  memberId: string,
  members: readonly { memberId: string; author: string }[] = [],
): RoomEvent {
  return create(RoomEventSchema, {
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
  });
}
