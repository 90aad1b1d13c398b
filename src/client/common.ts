/**
 * What both entries of the client library export (index.ts for Node,
 * browser.ts for fetch runtimes): everything but createParleyClient, which
 * each entry gives over its own platform's transport. Nothing here imports
 * anything of Node's.
 */

export { Code, ConnectError } from "@connectrpc/connect";
// The contract's service and messages, and connect's error, for callers' own types and checks.
export type {
  ChatMessage,
  FeedEvent,
  FeedResponse,
  Member,
  MyRoom,
  Ready,
  RoomEvent,
  RoomSummary,
} from "../../gen/chat/v1/chat_pb.js";
export { ChatService } from "../../gen/chat/v1/chat_pb.js";
export type { BackoffOptions } from "./backoff.js";
export { DEFAULT_BACKOFF } from "./backoff.js";
export type { GuestKeyStore } from "./guest-keys.js";
export { localStorageGuestKeys, memoryGuestKeys } from "./guest-keys.js";
export type { GuestToken, GuestTokens, GuestTokensOptions } from "./guest-tokens.js";
export { createGuestTokens } from "./guest-tokens.js";
export type {
  LoginOptions,
  ParleyClient,
  ParleyClientCoreOptions,
  SendOptions,
} from "./parley-client.js";
export { createParleyClientWith } from "./parley-client.js";
export type { ReconnectStatus } from "./reconnecting.js";
export { ResumeFailedError } from "./resume-failed-error.js";
export type { FeedOptions, FeedStatus } from "./resuming-feed.js";
export type { SubscribeOptions, SubscriptionStatus } from "./resuming-subscribe.js";
export type { TokenSource } from "./token.js";
export { tokenInterceptor } from "./token.js";
export type { GuestOption, TokenOptions } from "./with-tokens.js";
export type { WebSocketConstructor, WebSocketLike } from "./ws-connection.js";
export type { WebSocketTransport, WebSocketTransportOptions } from "./ws-transport.js";
export { createWebSocketTransport } from "./ws-transport.js";
