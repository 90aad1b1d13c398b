import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type ChatService, SubscribeResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import { toChatMessage } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";
import { abortable } from "./abortable.js";
import { runChat } from "./chat-stream.js";
import { eventResponses } from "./event-responses.js";
import { readHistory } from "./history.js";
import { runListener } from "./listener.js";
import { presenceHandlers } from "./presence.js";
import {
  validAuthor,
  validClientMessageId,
  validRoom,
  validSeq,
  validSubscription,
  validText,
} from "./validate.js";

/**
 * The ChatService handlers: each validates its request and hands it to the
 * room hub (writes, live events) or the log (history).
 */
export function createChatService(hub: RoomHub, log: MessageLog): ServiceImpl<typeof ChatService> {
  return {
    async send(req) {
      const room = validRoom("room", req.room);
      const author = validAuthor("author", req.author);
      const text = validText("text", req.text);
      const clientMessageId = validClientMessageId("client_message_id", req.clientMessageId);
      const result = await hub.append(room, { author, text, clientMessageId });
      return { message: toChatMessage(result.message), duplicate: result.duplicate };
    },

    listener(requests, ctx) {
      return runListener(hub, requests, ctx.signal);
    },

    async *subscribe(req, ctx) {
      const { room, author, epoch } = validSubscription(req);
      const sinceSeq = req.sinceSeq === undefined ? undefined : validSeq("since_seq", req.sinceSeq);
      const respond = eventResponses(
        SubscribeResponseSchema,
        ctx.requestHeader.get("content-type"),
      );
      for await (const batch of hub.stream(room, { author, epoch, sinceSeq }, ctx.signal)) {
        yield respond(batch);
      }
    },

    async *echo(requests, ctx) {
      let seq = 0n;
      for await (const req of abortable(requests, ctx.signal)) {
        seq++;
        yield { text: req.text, seq, receivedAt: timestampNow() };
      }
    },

    chat(requests, ctx) {
      return runChat(hub, requests, ctx);
    },

    history(req) {
      return readHistory(log, req);
    },

    ...presenceHandlers(hub, log),
  };
}
