import { create } from "@bufbuild/protobuf";
import {
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import { toChatMessage } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { AppendResult } from "../store/message-log.js";
import { validAuthor, validClientMessageId, validRoom, validText } from "./validate.js";

/** The fields of a Send request. */
export type SendFields = Pick<SendRequest, "room" | "author" | "text" | "clientMessageId">;

/** Send: validate every field (nothing is stored when one fails), then append. */
export function appendMessage(hub: RoomHub, req: SendFields): Promise<AppendResult> {
  const room = validRoom("room", req.room);
  const author = validAuthor("author", req.author);
  const text = validText("text", req.text);
  const clientMessageId = validClientMessageId("client_message_id", req.clientMessageId);
  return hub.append(room, { author, text, clientMessageId });
}

/** Send's answer: the stored message. */
export async function sendMessage(hub: RoomHub, req: SendFields): Promise<SendResponse> {
  const result = await appendMessage(hub, req);
  return create(SendResponseSchema, {
    message: toChatMessage(result.message),
    duplicate: result.duplicate,
  });
}
