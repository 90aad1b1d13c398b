import { type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { type ChatMessage, ChatService, type RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, sleep } from "./backoff.js";
import { resumingSubscribe, type SubscribeOptions } from "./resuming-subscribe.js";
import { isRetryable } from "./retryable.js";

/** Options of a Parley client, whatever the platform. */
export interface ParleyClientCoreOptions {
  /** How calls reach the server (connect-node or connect-web). */
  transport: Transport;
  /** Delays between retries and reconnects. */
  backoff?: Partial<BackoffOptions>;
  /** A subscription silent for this long is dead and reconnects (default 45 s: three heartbeats). */
  silenceTimeoutMs?: number;
  /** How many times send() tries before it gives up (default 8). */
  sendAttempts?: number;
}

/** Options of ParleyClient.send. */
export interface SendOptions {
  /** The idempotency key; generated when omitted. Retries reuse it, so the message is stored once. */
  clientMessageId?: string;
  signal?: AbortSignal;
}

/** A typed Parley client: the generated client plus resuming helpers. */
export interface ParleyClient {
  /** The generated ChatService client, for every method as the contract declares it. */
  readonly rpc: Client<typeof ChatService>;
  /**
   * A room's events, reconnecting and resuming from the last seq delivered
   * until `signal` aborts. See resumingSubscribe.
   */
  subscribe(room: string, options?: SubscribeOptions): AsyncIterable<RoomEvent>;
  /** Post a message, retrying transient failures with one idempotency key. */
  send(room: string, author: string, text: string, options?: SendOptions): Promise<ChatMessage>;
}

/** A Parley client over any connect transport. */
export function createParleyClientWith(options: ParleyClientCoreOptions): ParleyClient {
  const rpc = createClient(ChatService, options.transport);
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff } satisfies BackoffOptions;
  const tuning = { backoff, silenceTimeoutMs: options.silenceTimeoutMs ?? 45_000 };
  const sendAttempts = options.sendAttempts ?? 8;
  return {
    rpc,
    subscribe: (room, subscribeOptions = {}) =>
      resumingSubscribe(rpc, room, subscribeOptions, tuning),
    async send(room, author, text, sendOptions = {}) {
      const clientMessageId = sendOptions.clientMessageId ?? globalThis.crypto.randomUUID();
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await rpc.send(
            { room, author, text, clientMessageId },
            { signal: sendOptions.signal },
          );
          if (!response.message)
            throw new ConnectError("Send answered without a message", Code.Internal);
          return response.message;
        } catch (error) {
          const failure = ConnectError.from(error);
          if (sendOptions.signal?.aborted || !isRetryable(failure) || attempt + 1 >= sendAttempts) {
            throw failure;
          }
          await sleep(backoffDelay(attempt, backoff), sendOptions.signal);
        }
      }
    },
  };
}
