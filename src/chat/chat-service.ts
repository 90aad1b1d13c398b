import type { ServiceImpl } from "@connectrpc/connect";
import { type ChatService, SubscribeResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";
import { abortable } from "./abortable.js";
import { runChat } from "./chat-stream.js";
import { echoResponse } from "./echo-response.js";
import { eventResponses } from "./event-responses.js";
import { readHistory } from "./history.js";
import { runListener } from "./listener.js";
import { presenceHandlers } from "./presence.js";
import { sendMessage } from "./send-message.js";
import { subscribeEvents } from "./subscribe-events.js";

/**
 * The ChatService handlers: each validates its request and hands it to the
 * room hub (writes, live events) or the log (history).
 */
export function createChatService(hub: RoomHub, log: MessageLog): ServiceImpl<typeof ChatService> {
  return {
    send(req) {
      return sendMessage(hub, req);
    },

    listener(requests, ctx) {
      return runListener(hub, requests, ctx.signal);
    },

    async *subscribe(req, ctx) {
      const events = subscribeEvents(hub, req, ctx.signal);
      const respond = eventResponses(
        SubscribeResponseSchema,
        ctx.requestHeader.get("content-type"),
      );
      for await (const batch of events) yield respond(batch);
    },

    async *echo(requests, ctx) {
      let seq = 0n;
      for await (const req of abortable(requests, ctx.signal)) {
        seq++;
        yield echoResponse(req.text, seq);
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
