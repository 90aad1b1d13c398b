import { create } from "@bufbuild/protobuf";
import {
  ChatService,
  type ListMyRoomsRequest,
  type ListMyRoomsResponse,
  ListMyRoomsResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { UnaryCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import { allowsRoom, type Identity, identityOf } from "../identity/identity.js";
import { isConversationId } from "../limits.js";
import type { MessageLog } from "../store/message-log.js";
import { callerOf, myRoom, roomTail } from "./people-common.js";

/**
 * ListMyRooms: the caller's memberships, ascending by room, each with where
 * its room stands (read in parallel) and, for a conversation, its
 * participants. A token with a `rooms` claim sees only the memberships it
 * may touch, as its Feed's ready does: a room outside it is private to it.
 */
export function listMyRoomsCore(
  log: MessageLog,
  gate: Gate,
): UnaryCore<ListMyRoomsRequest, ListMyRoomsResponse> {
  return {
    kind: "unary",
    method: ChatService.method.listMyRooms,
    async run(_req, scope) {
      const user = callerOf(scope.call);
      const identity = identityOf(scope.call) as Identity;
      const memberships = (await log.people.memberships(user)).filter((m) =>
        allowsRoom(identity, m.room),
      );
      const rooms = await Promise.all(
        memberships.map(async (m) => {
          const [tail, participants] = await Promise.all([
            roomTail(log, m.room),
            isConversationId(m.room) ? gate.conversations.participants(m.room) : undefined,
          ]);
          return myRoom(m, tail, participants);
        }),
      );
      const unreadTotal = rooms.reduce((sum, r) => sum + r.unread, 0n);
      return create(ListMyRoomsResponseSchema, { rooms, unreadTotal });
    },
  };
}
