import type { ConnectRouter } from "@connectrpc/connect";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { createChatService } from "../chat/chat-service.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";
import { createHealthService } from "./health/health-service.js";
import { mountReflection } from "./reflection/mount-reflection.js";
import { shutdownAwareRouter } from "./shutdown-router.js";

/**
 * Every RPC route the server mounts: the chat service, gRPC health (NOT_SERVING
 * once `shutdownSignal` aborts) and gRPC server reflection describing all of
 * them. Every handler's `ctx.signal` also aborts with `shutdownSignal` (the
 * connect adapter is not given it: see shutdown-router.ts). Without a signal
 * (in-memory tests) health stays SERVING.
 */
export function routes(
  hub: RoomHub,
  log: MessageLog,
  shutdownSignal: AbortSignal = new AbortController().signal,
) {
  return (connectRouter: ConnectRouter) => {
    const router = shutdownAwareRouter(connectRouter, shutdownSignal);
    router.service(ChatService, createChatService(hub, log));
    router.service(Health, createHealthService([ChatService.typeName], shutdownSignal));
    mountReflection(router);
  };
}
