import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  createContextValues,
  type Transport,
} from "@connectrpc/connect";
import {
  type ChatMessage,
  ChatService,
  type FeedResponse,
  type RoomEvent,
} from "../../gen/chat/v1/chat_pb.js";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, sleep } from "./backoff.js";
import { newClientMessageId } from "./client-message-id.js";
import type { GuestToken } from "./guest-tokens.js";
import type { Contact } from "./reconnecting.js";
import { type FeedOptions, resumingFeed } from "./resuming-feed.js";
import { resumingSubscribe, type SubscribeOptions } from "./resuming-subscribe.js";
import { connectionRefused, isRetryable } from "./retryable.js";
import { ownAuthorization } from "./token.js";

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
  /**
   * How many connections in a row a subscription makes that deliver nothing
   * past `ready` before it gives up and throws the last error (default 30:
   * 2 to 4 minutes of an unreachable server with the default backoff;
   * Infinity never gives up).
   */
  subscribeAttempts?: number;
  /**
   * Fail at once, without retrying, when this client's first call finds
   * nothing listening at the address (connection refused): the address is
   * wrong or the server is not started, and waiting will not fix that soon.
   * Refusals after the server has answered once (a restart) are retried as
   * usual. For commands a person waits on; default false.
   */
  failFastWhenUnreachable?: boolean;
  /**
   * Called when a call's token is refused (UNAUTHENTICATED) with that token
   * (undefined when not known): get a fresh one for the token source to
   * answer with; once it resolves the call is repeated, once (a second
   * refusal is the caller's). A guest client logs in again here by itself.
   * Unary calls are repeated by the token interceptors, subscriptions by subscribe().
   */
  onTokenRefused?: ((token: string | undefined) => Promise<unknown>) | undefined;
}

/** Options of ParleyClient.send. */
export interface SendOptions {
  /** The idempotency key; generated when omitted. Retries reuse it, so the message is stored once. */
  clientMessageId?: string;
  signal?: AbortSignal;
}

/** Options of ParleyClient.login. */
export interface LoginOptions {
  /**
   * The guest token to renew, sent as the call's authorization: the server
   * lets the holder of a name keep it. Omit for a first login. Login never
   * takes the client's own token source, so a source may call it.
   */
  token?: string | undefined;
  /** The name's guest key from an earlier Login (GuestToken.guestKey), to get the name back. */
  guestKey?: string | undefined;
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
  /**
   * Follow everything addressed to the caller (its rooms and
   * conversations), reconnecting and resuming from the last cursor by
   * itself; see resumingFeed.
   */
  feed(options?: FeedOptions): AsyncIterable<FeedResponse>;
  /**
   * Post a message, retrying transient failures (see isRetryable) with one
   * idempotency key, at most `sendAttempts` times.
   */
  send(room: string, author: string, text: string, options?: SendOptions): Promise<ChatMessage>;
  /**
   * Log in as a guest (one Login call, not retried): a short-lived token for
   * `name` on a server started with `--auth guest`. ALREADY_EXISTS when
   * another guest holds the name; FAILED_PRECONDITION when the server hands
   * out no guest tokens (`--auth jwt` or `off`). createGuestTokens keeps one renewed.
   */
  login(name: string, options?: LoginOptions): Promise<GuestToken>;
}

/** A Parley client over any connect transport. */
export function createParleyClientWith(options: ParleyClientCoreOptions): ParleyClient {
  const rpc = createClient(ChatService, options.transport);
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff } satisfies BackoffOptions;
  const contact: Contact = {
    reached: false,
    failFastWhenUnreachable: options.failFastWhenUnreachable ?? false,
  };
  const tuning = {
    backoff,
    silenceTimeoutMs: options.silenceTimeoutMs ?? 45_000,
    attempts: options.subscribeAttempts ?? 30,
    contact,
    onTokenRefused: options.onTokenRefused,
  };
  const sendAttempts = options.sendAttempts ?? 8;
  return {
    rpc,
    async login(name, loginOptions = {}) {
      const token = loginOptions.token;
      const response = await rpc.login(
        { name, guestKey: loginOptions.guestKey ?? "" },
        {
          signal: loginOptions.signal,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
          contextValues: createContextValues().set(ownAuthorization, true),
        },
      );
      contact.reached = true;
      if (!response.expiresAt) {
        throw new ConnectError("Login answered without expires_at", Code.Internal);
      }
      return {
        token: response.token,
        subject: response.subject,
        scopes: [...response.scopes],
        expiresAt: timestampDate(response.expiresAt),
        guestKey: response.guestKey,
      };
    },
    subscribe: (room, subscribeOptions = {}) =>
      resumingSubscribe(rpc, room, subscribeOptions, tuning),
    feed: (feedOptions = {}) => resumingFeed(rpc, feedOptions, tuning),
    async send(room, author, text, sendOptions = {}) {
      const clientMessageId = sendOptions.clientMessageId ?? newClientMessageId();
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await rpc.send(
            { room, author, text, clientMessageId },
            { signal: sendOptions.signal },
          );
          contact.reached = true;
          if (!response.message)
            throw new ConnectError("Send answered without a message", Code.Internal);
          return response.message;
        } catch (error) {
          const failure = ConnectError.from(error);
          if (sendOptions.signal?.aborted || !isRetryable(failure) || attempt + 1 >= sendAttempts) {
            throw failure;
          }
          if (!contact.reached && contact.failFastWhenUnreachable && connectionRefused(failure)) {
            throw failure;
          }
          await sleep(backoffDelay(attempt, backoff), sendOptions.signal);
        }
      }
    },
  };
}
