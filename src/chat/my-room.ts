import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type MyRoom, MyRoomSchema } from "../../gen/chat/v1/chat_pb.js";
import type { MessageLog, RoomHead } from "../store/message-log.js";
import type { Membership } from "../store/people.js";

/** What a MyRoom says of the room itself, apart from the membership. */
export interface RoomState {
  head: RoomHead;
  /** When the newest message was stored (ms), undefined when the room has none. */
  lastActivityMs: number | undefined;
  /** A conversation's participants, sorted; empty for a room. */
  participants: readonly string[];
}

/** A membership as ListMyRooms, JoinRoom and the feed answer it. */
export function toMyRoom(membership: Membership, state: RoomState): MyRoom {
  const lastSeq = state.head.lastSeq;
  // A read position is never beyond the last seq it was checked against,
  // but a room trimmed or recreated since must not give a negative count.
  const unread = Math.max(0, lastSeq - membership.readSeq);
  return create(MyRoomSchema, {
    room: membership.room,
    participants: [...state.participants],
    lastSeq: BigInt(lastSeq),
    readSeq: BigInt(membership.readSeq),
    unread: BigInt(unread),
    ...(state.lastActivityMs === undefined
      ? {}
      : { lastActivity: timestampFromMs(state.lastActivityMs) }),
    joinedAt: timestampFromMs(membership.joinedAtMs),
  });
}

/** Read a room's head, newest message time and (for a conversation) participants. */
export async function readRoomState(log: MessageLog, room: string): Promise<RoomState> {
  const [head, newest, conversation] = await Promise.all([
    log.head(room),
    log.read(room, { afterSeq: 0, beforeSeq: 0, limit: 1, newest: true }),
    room.startsWith("dm.") ? log.people.conversation(room) : undefined,
  ]);
  return {
    head,
    lastActivityMs: newest[0]?.sentAtMs,
    participants: conversation?.participants ?? [],
  };
}
