import type { ConnectRouter } from "@connectrpc/connect";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { createChatService } from "../chat/chat-service.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";

/** Every RPC route the server mounts. */
export function routes(hub: RoomHub, log: MessageLog) {
  return (router: ConnectRouter) => {
    router.service(ChatService, createChatService(hub, log));
  };
}
