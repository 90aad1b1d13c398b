/**
 * The Parley client library: the generated ChatService client plus a
 * subscription that survives restarts and slow-consumer cut-offs without
 * losing or repeating a message, and a send that retries safely.
 */

export type { BackoffOptions } from "./backoff.js";
export { DEFAULT_BACKOFF } from "./backoff.js";
export type { ParleyNodeClientOptions, Protocol } from "./node.js";
export { createParleyClient } from "./node.js";
export type { ParleyClient, ParleyClientCoreOptions, SendOptions } from "./parley-client.js";
export { createParleyClientWith } from "./parley-client.js";
export { ResumeFailedError } from "./resume-failed-error.js";
export type { SubscribeOptions, SubscriptionStatus } from "./resuming-subscribe.js";
