import { create } from "@bufbuild/protobuf";
import {
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import { toChatMessage } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import { validAuthor, validClientMessageId, validRoom, validText } from "./validate.js";

/** Send: validate every field (nothing is stored when one fails), append, answer with the stored message. */
export async function sendMessage(hub: RoomHub, req: SendRequest): Promise<SendResponse> {
  const room = validRoom("room", req.room);
  const author = validAuthor("author", req.author);
  const text = validText("text", req.text);
  const clientMessageId = validClientMessageId("client_message_id", req.clientMessageId);
  const result = await hub.append(room, { author, text, clientMessageId });
  return create(SendResponseSchema, {
    message: toChatMessage(result.message),
    duplicate: result.duplicate,
  });
}
