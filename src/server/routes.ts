import type { ConnectRouter } from "@connectrpc/connect";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import type { MethodCore } from "../calls/method-core.js";
import { serviceFromCores } from "./connect-path/core-service.js";
import { createHealthService } from "./health/health-service.js";
import { type ServingState, servingState } from "./health/serving-state.js";
import { mountReflection } from "./reflection/mount-reflection.js";

/**
 * Every RPC route the server mounts: the chat service's method cores, gRPC
 * health (as `state` says: NOT_SERVING once `shutdownSignal` aborts, and
 * while the store is unreachable) and gRPC server reflection describing all
 * of them. Every core's signal also aborts with `shutdownSignal`. Without a
 * signal (in-memory tests) health stays SERVING.
 */
export function routes(
  chatCores: readonly MethodCore[],
  shutdownSignal: AbortSignal = new AbortController().signal,
  state: ServingState = servingState(shutdownSignal),
) {
  return (router: ConnectRouter) => {
    router.service(ChatService, serviceFromCores(chatCores, shutdownSignal) as never);
    router.service(Health, createHealthService([ChatService.typeName], shutdownSignal, state));
    mountReflection(router);
  };
}
