/**
 * The Parley client library for browsers and other fetch runtimes (the
 * package's `browser` and default entry): what the Node entry offers, with
 * createParleyClient over connect-web (Connect or gRPC-Web on fetch). It
 * imports nothing of Node's.
 */

export { Code, ConnectError } from "@connectrpc/connect";
// The contract's service and messages, and connect's error, for callers' own types and checks.
export type {
  ChatMessage,
  Member,
  Ready,
  RoomEvent,
  RoomSummary,
} from "../../gen/chat/v1/chat_pb.js";
export { ChatService } from "../../gen/chat/v1/chat_pb.js";
export type { BackoffOptions } from "./backoff.js";
export { DEFAULT_BACKOFF } from "./backoff.js";
export type { GuestToken, GuestTokens, GuestTokensOptions } from "./guest-tokens.js";
export { createGuestTokens } from "./guest-tokens.js";
export type {
  LoginOptions,
  ParleyClient,
  ParleyClientCoreOptions,
  SendOptions,
} from "./parley-client.js";
export { createParleyClientWith } from "./parley-client.js";
export { ResumeFailedError } from "./resume-failed-error.js";
export type { SubscribeOptions, SubscriptionStatus } from "./resuming-subscribe.js";
export type { TokenSource } from "./token.js";
export { tokenInterceptor } from "./token.js";
export type { ParleyWebClient, ParleyWebClientOptions, WebProtocol } from "./web.js";
export { createParleyClient } from "./web.js";
export type { GuestOption, TokenOptions } from "./with-tokens.js";
