import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type MyRoom, MyRoomSchema } from "../../gen/chat/v1/chat_pb.js";
import type { CallInfo } from "../calls/call-info.js";
import { identityOf } from "../identity/identity.js";
import type { MessageLog } from "../store/message-log.js";
import { type Membership, MembershipLimitError } from "../store/people.js";

/**
 * The user a People method speaks for: the token's subject. A server that
 * checks no identity (`--auth off`) knows nobody, so these methods fail
 * there with FAILED_PRECONDITION.
 */
export function callerOf(call: CallInfo): string {
  const identity = identityOf(call);
  if (identity === undefined) {
    throw new ConnectError(
      `${call.method.name} speaks for the caller, and this server checks no identity (--auth off): start it with --auth guest or --auth jwt`,
      Code.FailedPrecondition,
    );
  }
  return identity.subject;
}

/** Where a room's log ends, as MyRoom shows it. */
export interface RoomTail {
  /** The newest seq, 0 with no messages. */
  lastSeq: number;
  /** When the newest message was stored; undefined with no messages. */
  lastSentAtMs: number | undefined;
}

/**
 * The room's newest message's seq and time, from the message itself (the
 * newest is always retained), with the same one read on every engine.
 */
export async function roomTail(log: MessageLog, room: string): Promise<RoomTail> {
  const [last] = await log.read(room, { afterSeq: 0, beforeSeq: 0, limit: 1, newest: true });
  return last === undefined
    ? { lastSeq: 0, lastSentAtMs: undefined }
    : { lastSeq: last.seq, lastSentAtMs: last.sentAtMs };
}

/** How many messages after a read position: never negative. */
export function unreadOf(lastSeq: number, readSeq: number): number {
  return Math.max(0, lastSeq - readSeq);
}

/** A membership as the wire shows it. */
export function myRoom(
  membership: Membership,
  tail: RoomTail,
  participants: readonly string[] = [],
): MyRoom {
  return create(MyRoomSchema, {
    room: membership.room,
    participants: [...participants],
    lastSeq: BigInt(tail.lastSeq),
    readSeq: BigInt(membership.readSeq),
    unread: BigInt(unreadOf(tail.lastSeq, membership.readSeq)),
    ...(tail.lastSentAtMs === undefined
      ? {}
      : { lastActivity: timestampFromMs(tail.lastSentAtMs) }),
    joinedAt: timestampFromMs(membership.joinedAtMs),
  });
}

/**
 * The store's membership limit as the refusal the People methods answer:
 * the caller's own (`caller`), or that of a participant a new conversation
 * would add (`participants`, its index among them).
 */
export function membershipRefusal(
  error: unknown,
  participants: readonly string[] = [],
  caller = "",
): unknown {
  if (!(error instanceof MembershipLimitError)) return error;
  const at = participants.indexOf(error.user);
  const full = `"${error.user}" is a member of ${error.maxRooms} rooms and conversations, the most one user may have`;
  return error.user === caller || at < 0
    ? new ConnectError(`memberships: ${full}; leave one (LeaveRoom) first`, Code.ResourceExhausted)
    : new ConnectError(
        `participants[${at}]: ${full}, so a new conversation cannot add them`,
        Code.ResourceExhausted,
      );
}
