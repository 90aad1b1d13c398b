import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { FeedEvent, MyRoom } from "../../gen/chat/v1/chat_pb.js";

/** One of the signed-in person's memberships, as the page keeps it from the feed. */
export interface Membership {
  /** The room's name, or the conversation's id. */
  room: string;
  /** A conversation's participants, sorted (the person included); empty for a room. */
  participants: string[];
  /** The room's newest seq heard. */
  lastSeq: bigint;
  /** The person's read position there (the highest seq read, in any tab). */
  readSeq: bigint;
  /** When the newest message was stored (undefined: none, or not known). */
  lastActivity: Date | undefined;
}

/**
 * The person's rooms and conversations, from their feed: the ready event's
 * list (every connection starts with one, which replaces what was known),
 * then joined and left as memberships change, each message's seq and read
 * events as read positions move in any tab. Unread is last seq less read
 * position, as the server counts it; applying an event twice changes
 * nothing (seqs and read positions only move forward).
 */
export class MyRooms {
  private readonly rooms = new Map<string, Membership>();
  /** Whether a ready event came (before, nothing is known about the person's rooms). */
  known = false;

  /** `onChange`: called after each change. */
  constructor(private readonly onChange: () => void) {}

  /** Take in one feed event. */
  apply(event: FeedEvent): void {
    const e = event.event;
    switch (e.case) {
      case "ready":
        this.rooms.clear();
        for (const r of e.value.rooms) this.rooms.set(r.room, membership(r));
        this.known = true;
        break;
      case "joined":
        this.rooms.set(e.value.room, merged(this.rooms.get(e.value.room), membership(e.value)));
        break;
      case "left":
        this.rooms.delete(e.value.room);
        break;
      case "message": {
        const m = this.rooms.get(e.value.room);
        if (m === undefined || e.value.seq <= m.lastSeq) return;
        m.lastSeq = e.value.seq;
        if (e.value.sentAt) m.lastActivity = timestampDate(e.value.sentAt);
        break;
      }
      case "read":
        this.moveRead(e.value.room, e.value.readSeq);
        return;
      default:
        return;
    }
    this.onChange();
  }

  /** A membership as a call answered it (JoinRoom, OpenConversation), ahead of its joined event. */
  add(room: MyRoom): void {
    this.rooms.set(room.room, merged(this.rooms.get(room.room), membership(room)));
    this.onChange();
  }

  /** The read position in `room` is now at least `seq` (a MarkRead's answer, or a read event). */
  moveRead(room: string, seq: bigint): void {
    const m = this.rooms.get(room);
    if (m === undefined || seq <= m.readSeq) return;
    m.readSeq = seq;
    if (seq > m.lastSeq) m.lastSeq = seq;
    this.onChange();
  }

  /** The membership of `room`, if the person is a member. */
  get(room: string): Membership | undefined {
    return this.rooms.get(room);
  }

  /** Messages in `room` after the read position (0 when not a member). */
  unread(room: string): number {
    const m = this.rooms.get(room);
    return m === undefined || m.lastSeq <= m.readSeq ? 0 : Number(m.lastSeq - m.readSeq);
  }

  /** Every membership: rooms, then conversations, each in the server's order (by room). */
  all(): Membership[] {
    return [...this.rooms.values()];
  }
}

/** A conversation's name for `me`: the other participants, in order ("bo", "bo, cy"). */
export function conversationName(participants: readonly string[], me: string): string {
  const others = participants.filter((p) => p !== me);
  return others.length > 0 ? others.join(", ") : me;
}

function membership(r: MyRoom): Membership {
  return {
    room: r.room,
    participants: [...r.participants],
    lastSeq: r.lastSeq,
    readSeq: r.readSeq,
    lastActivity: r.lastActivity ? timestampDate(r.lastActivity) : undefined,
  };
}

/** A joined event for a room already known (a resumed feed): positions never move back. */
function merged(old: Membership | undefined, now: Membership): Membership {
  if (old === undefined) return now;
  return {
    ...now,
    lastSeq: later(old.lastSeq, now.lastSeq),
    readSeq: later(old.readSeq, now.readSeq),
    lastActivity: now.lastActivity ?? old.lastActivity,
  };
}

/** The higher of two seqs (Math.max takes no bigint). */
function later(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}
