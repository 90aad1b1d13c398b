import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ChatService,
  type OpenConversationRequest,
  type OpenConversationResponse,
  OpenConversationResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { UnaryCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import { authorizeRoom } from "../identity/identity.js";
import { LIMITS } from "../limits.js";
import type { MessageLog } from "../store/message-log.js";
import { conversationId, participantSet } from "./conversation-id.js";
import { callerOf, membershipRefusal, myRoom, roomTail } from "./people-common.js";
import { invalidArgument, validAuthor } from "./validate.js";

/**
 * OpenConversation: the conversation between the caller and the named
 * people, opened or found again (the same people give the same id). Every
 * check runs before the store is asked, so a refusal stores nothing.
 */
export function openConversationCore(
  log: MessageLog,
  gate: Gate,
  maxParticipants: number,
): UnaryCore<OpenConversationRequest, OpenConversationResponse> {
  return {
    kind: "unary",
    method: ChatService.method.openConversation,
    async run(req, scope) {
      const { call } = scope;
      const user = callerOf(call);
      if (req.participants.length === 0) {
        throw invalidArgument("participants", "must name at least one other person");
      }
      const named = req.participants.map((name, i) => validAuthor(`participants[${i}]`, name));
      const participants = participantSet([user, ...named]);
      if (participants.length === 1) {
        throw invalidArgument(
          "participants",
          `must name someone besides the caller "${user}" (a conversation with oneself alone is none)`,
        );
      }
      if (participants.length > maxParticipants) {
        throw invalidArgument(
          "participants",
          `a conversation may have at most ${maxParticipants} participants, the caller included (got ${participants.length})`,
        );
      }
      const id = conversationId(participants);
      // The token's scope and rooms claim hold for conversations as for rooms.
      authorizeRoom(call, id, "write");
      gate.take(call, "joins");
      const tail = await roomTail(log, id);
      const outcome = await log.people
        .openConversation(
          { id, participants, createdAtMs: Date.now() },
          user,
          tail.lastSeq,
          LIMITS.membershipsMax,
        )
        .catch((error: unknown) => {
          throw membershipRefusal(error, named, user);
        });
      gate.conversations.remember(outcome.conversation);
      const mine =
        outcome.joined.find((j) => j.user === user)?.membership ??
        (await log.people.membership(user, id));
      if (mine === undefined) {
        // The store answered a conversation without the opener's membership: a broken engine.
        throw new ConnectError(`conversation ${id} was opened without its opener`, Code.Internal);
      }
      return create(OpenConversationResponseSchema, {
        conversation: myRoom(mine, tail, outcome.conversation.participants),
        created: outcome.created,
      });
    },
  };
}
