import { create } from "@bufbuild/protobuf";
import {
  ChatService,
  type JoinRoomRequest,
  JoinRoomResponseSchema,
  type LeaveRoomRequest,
  LeaveRoomResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { CallInfo } from "../calls/call-info.js";
import type { MethodCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import type { Access } from "../identity/identity.js";
import { isConversationId, LIMITS } from "../limits.js";
import type { MessageLog } from "../store/message-log.js";
import { callerOf, membershipRefusal, myRoom, roomTail } from "./people-common.js";
import { validRoom } from "./validate.js";

/**
 * The caller and the room of a People request about one room, checked in
 * this order: identity, the room's name, the caller's right to it (for a
 * conversation, being a participant).
 */
export async function callerAndRoom(
  gate: Gate,
  call: CallInfo,
  field: string,
  value: string,
  access: Access,
): Promise<{ user: string; room: string }> {
  const user = callerOf(call);
  const room = validRoom(field, value);
  const allowed = gate.room(call, room, access);
  if (allowed !== undefined) await allowed;
  return { user, room };
}

/** JoinRoom and LeaveRoom: lasting memberships, begun and ended by the caller. */
export function membershipCores(log: MessageLog, gate: Gate): MethodCore[] {
  return [
    {
      kind: "unary",
      method: ChatService.method.joinRoom,
      run: async (req: JoinRoomRequest, scope) => {
        const { user, room } = await callerAndRoom(gate, scope.call, "room", req.room, "write");
        // The read position starts at the room's last seq: what was there is not unread.
        const tail = await roomTail(log, room);
        const outcome = await log.people
          .join(user, room, tail.lastSeq, LIMITS.membershipsMax)
          .catch((error: unknown) => {
            throw membershipRefusal(error);
          });
        const participants = isConversationId(room)
          ? await gate.conversations.participants(room)
          : undefined;
        return create(JoinRoomResponseSchema, {
          room: myRoom(outcome.membership, tail, participants),
          alreadyMember: !outcome.created,
        });
      },
    },
    {
      kind: "unary",
      method: ChatService.method.leaveRoom,
      run: async (req: LeaveRoomRequest, scope) => {
        const { user, room } = await callerAndRoom(gate, scope.call, "room", req.room, "write");
        return create(LeaveRoomResponseSchema, { wasMember: await log.people.leave(user, room) });
      },
    },
  ];
}
