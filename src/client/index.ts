/**
 * The Parley client library for Node (the package's `node` entry): the
 * generated ChatService client plus a subscription that survives restarts
 * and slow-consumer cut-offs without losing or repeating a message, a send
 * that retries safely, and tokens (a fixed one, a function, or a guest login
 * renewed before it expires). createParleyClient speaks Connect, gRPC or
 * gRPC-Web over connect-node.
 */

export * from "./common.js";
export { defaultGuestKeyFile, fileGuestKeys } from "./guest-key-file.js";
export type { ParleyNodeClient, ParleyNodeClientOptions, Protocol } from "./node.js";
export { createParleyClient } from "./node.js";
