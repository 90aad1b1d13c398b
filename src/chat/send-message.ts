import { create } from "@bufbuild/protobuf";
import { ChatService, type SendResponse, SendResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import type { CallInfo } from "../calls/call-info.js";
import type { UnaryCore } from "../calls/method-core.js";
import { Reply } from "../calls/reply.js";
import type { Gate } from "../identity/gate.js";
import type { Appended } from "../rooms/room.js";
import { toChatMessage } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import { encodeSendResponse, type SendFields } from "../wire/send-codec.js";
import { validAuthor, validClientMessageId, validRoom, validText } from "./validate.js";

/**
 * Send: check every field and the caller's right to post (nothing is stored
 * when one fails), count it against the caller's send rate, then append.
 */
export function appendMessage(
  hub: RoomHub,
  gate: Gate,
  call: CallInfo,
  req: SendFields,
): Promise<Appended> {
  const room = validRoom("room", req.room);
  const allowed = gate.room(call, room, "write");
  const author = validAuthor("author", gate.author(call, "author", req.author));
  const text = validText("text", req.text);
  const clientMessageId = validClientMessageId("client_message_id", req.clientMessageId);
  if (allowed === undefined) {
    gate.take(call, "sends");
    return hub.append(room, { author, text, clientMessageId });
  }
  // A conversation: its participants are checked before anything counts or is stored.
  return allowed.then(() => {
    gate.take(call, "sends");
    return hub.append(room, { author, text, clientMessageId });
  });
}

/** Send's answer: the stored message, written field by field for binary clients. */
export function sendReply(result: Appended): Reply<SendResponse> {
  return new Reply(
    () => encodeSendResponse(result, result.eventField),
    () =>
      create(SendResponseSchema, {
        message: toChatMessage(result.message),
        duplicate: result.duplicate,
      }),
  );
}

/** The Send method. */
export function sendCore(hub: RoomHub, gate: Gate): UnaryCore<SendFields, SendResponse> {
  return {
    kind: "unary",
    method: ChatService.method.send,
    async run(request, scope) {
      const result = await appendMessage(hub, gate, scope.call, request);
      const joined = gate.posted(scope.call, result.message);
      if (joined !== undefined) await joined;
      return sendReply(result);
    },
  };
}
