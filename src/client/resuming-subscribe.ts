import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { ChatService, RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { ResumeFailedError } from "./resume-failed-error.js";
import { connectionRefused, isRetryable } from "./retryable.js";

/** Options of ParleyClient.subscribe. */
export interface SubscribeOptions {
  /**
   * The last seq the caller already has (a bigint, as `message.seq` and
   * `ready.lastSeq` are); undefined starts live.
   */
  sinceSeq?: bigint | undefined;
  /** The epoch sinceSeq belongs to ("" or undefined: accept the room's). */
  epoch?: string | undefined;
  /** Display name announced to the room in join/leave events. */
  author?: string | undefined;
  /** Ends the subscription: the iterable returns without error. */
  signal?: AbortSignal | undefined;
  /** Reported on every (re)connection attempt and failure. */
  onStatus?: ((status: SubscriptionStatus) => void) | undefined;
}

/** What a subscription is doing, for a connection indicator. */
export type SubscriptionStatus =
  | { state: "connecting"; attempt: number }
  | { state: "live"; epoch: string; lastSeq: bigint | undefined }
  | { state: "retrying"; attempt: number; delayMs: number; error: ConnectError };

/** Tuning shared by every subscription of a client. */
export interface ResumeTuning {
  backoff: BackoffOptions;
  /** No response for this long means the stream is dead (heartbeats come every 15 s). */
  silenceTimeoutMs: number;
  /** Connections in a row that deliver nothing past `ready` before the subscription gives up. */
  attempts: number;
  /** Whether the client has ever had an answer from the server (shared by its calls). */
  contact: Contact;
  /** Gets a fresh token after a refusal (see ParleyClientCoreOptions.onTokenRefused). */
  onTokenRefused?: ((token: string | undefined) => Promise<unknown>) | undefined;
}

/** Whether any call of a client has reached the server yet. */
export interface Contact {
  reached: boolean;
  /** Fail at once when the first call finds nothing listening (connection refused). */
  failFastWhenUnreachable: boolean;
}

const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * sinceSeq as the request carries it. A seq of the wrong type is the
 * caller's mistake and fails at once: no reconnect can fix it.
 */
function checkedSinceSeq(sinceSeq: unknown): bigint | undefined {
  if (sinceSeq === undefined) return undefined;
  if (typeof sinceSeq !== "bigint" || sinceSeq < 0n || sinceSeq > MAX_UINT64) {
    throw new ConnectError(
      `sinceSeq must be a bigint from 0n to 2n ** 64n - 1n (as message.seq and ready.lastSeq are), got ${typeof sinceSeq} ${String(sinceSeq)}`,
      Code.InvalidArgument,
    );
  }
  return sinceSeq;
}

/**
 * Subscribe to a room and keep subscribing: on a transient failure (see
 * isRetryable), a slow-subscriber cut-off or a silent stream, reconnect with
 * backoff and resume from the last seq delivered, in the same epoch. Message
 * events are yielded exactly once, in seq order, with no gap; other events
 * (ready on each connection, join, leave, heartbeat) pass through.
 *
 * A resume the server refuses (epoch changed, seq past retention) throws
 * ResumeFailedError; an error that is not transient, or `attempts`
 * connections in a row that delivered nothing past `ready`, throw the last
 * error as ConnectError. Aborting `signal` ends the iteration quietly.
 */
export function resumingSubscribe(
  rpc: Client<typeof ChatService>,
  room: string,
  options: SubscribeOptions,
  tuning: ResumeTuning,
): AsyncGenerator<RoomEvent> {
  const open: OpenEvents = (from, signal) =>
    rpc.subscribe({ room, ...from, author: options.author ?? "" }, { signal });
  return resumingEvents(room, open, options, tuning);
}

/** Where a stream of room events is to start: after `sinceSeq`, in `epoch` ("" any). */
export interface ResumePoint {
  sinceSeq: bigint | undefined;
  epoch: string;
}

/**
 * Open one stream of a room's events from `from` (a Subscribe, or a Chat
 * that joins there), ending when `signal` aborts.
 */
export type OpenEvents = (
  from: ResumePoint,
  signal: AbortSignal,
) => AsyncIterable<{ events: RoomEvent[] }>;

/**
 * What resumingSubscribe does, over any stream of a room's events (see
 * OpenEvents): a Chat stream resumes the same way. `retryAlso` is asked
 * about a failure that is not transient; true reconnects anyway (a Chat
 * whose post was refused goes on without that post).
 */
export async function* resumingEvents(
  room: string,
  open: OpenEvents,
  options: SubscribeOptions,
  tuning: ResumeTuning,
  retryAlso: (failure: ConnectError) => boolean = () => false,
): AsyncGenerator<RoomEvent> {
  let lastSeq = checkedSinceSeq(options.sinceSeq);
  let epoch = options.epoch ?? "";
  const stop = options.signal;
  // One fresh login per refusal: a token refused again right after it surfaces.
  let reloggedIn = false;
  for (let attempt = 0; !stop?.aborted; ) {
    options.onStatus?.({ state: "connecting", attempt });
    const call = new AbortController();
    const abortCall = () => call.abort(stop?.reason);
    stop?.addEventListener("abort", abortCall, { once: true });
    // The watchdog's own reason, so that its abort is told apart from a
    // DEADLINE_EXCEEDED the server sent.
    const silence = new ConnectError(
      `no event for ${tuning.silenceTimeoutMs} ms`,
      Code.DeadlineExceeded,
    );
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const resetWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => call.abort(silence), tuning.silenceTimeoutMs);
    };
    let failure: ConnectError;
    let retry: boolean;
    let readySeen = false;
    let progressed = false;
    try {
      resetWatchdog();
      const stream = open({ sinceSeq: lastSeq, epoch }, call.signal);
      let gap: ConnectError | undefined;
      responses: for await (const response of stream) {
        resetWatchdog();
        tuning.contact.reached = true;
        for (const event of response.events) {
          const e = event.event;
          if (e.case === "ready") {
            readySeen = true;
            epoch = e.value.epoch;
            lastSeq ??= e.value.lastSeq;
            options.onStatus?.({ state: "live", epoch, lastSeq });
          } else {
            if (e.case === "message") {
              const seq = e.value.seq;
              if (lastSeq !== undefined && seq <= lastSeq) continue;
              if (lastSeq !== undefined && seq !== lastSeq + 1n) {
                gap = new ConnectError(
                  `expected seq ${lastSeq + 1n}, got ${seq}: reconnecting`,
                  Code.Aborted,
                );
                break responses;
              }
              lastSeq = seq;
            }
            // Something past ready came through: this connection worked.
            progressed = true;
          }
          yield event;
        }
      }
      // A gap, or the server closed the stream without error (it never does
      // while it runs): resuming from lastSeq is exactly what is needed.
      failure = gap ?? new ConnectError("the server ended the subscription", Code.Unavailable);
      retry = true;
    } catch (error) {
      if (stop?.aborted) return;
      if (call.signal.reason === silence) {
        failure = silence;
        retry = true;
      } else {
        failure = ConnectError.from(error);
        // A slow-subscriber cut-off comes after ready (the feed sends ready
        // first); before it, RESOURCE_EXHAUSTED is a limit, not a cut-off.
        retry =
          isRetryable(failure) ||
          (readySeen && failure.code === Code.ResourceExhausted) ||
          retryAlso(failure);
      }
    } finally {
      clearTimeout(watchdog);
      stop?.removeEventListener("abort", abortCall);
      call.abort();
    }
    const refused = ResumeFailedError.from(failure, room, lastSeq);
    if (refused) throw refused;
    if (readySeen) reloggedIn = false;
    if (failure.code === Code.Unauthenticated && tuning.onTokenRefused && !reloggedIn) {
      reloggedIn = true;
      try {
        await tuning.onTokenRefused(undefined);
      } catch (error) {
        if (stop?.aborted) return;
        throw ConnectError.from(error);
      }
      continue;
    }
    if (!retry) throw failure;
    // `attempt` counts connections in a row that got nothing past ready:
    // one that delivered something starts the count (and the backoff) again.
    if (progressed) attempt = 0;
    else if (attempt + 1 >= tuning.attempts) throw failure;
    if (!tuning.contact.reached && tuning.contact.failFastWhenUnreachable) {
      if (connectionRefused(failure)) throw failure;
    }
    const delayMs = backoffDelay(attempt, tuning.backoff);
    options.onStatus?.({ state: "retrying", attempt, delayMs, error: failure });
    if (!progressed) attempt++;
    try {
      await sleep(delayMs, stop);
    } catch {
      return;
    }
  }
}
