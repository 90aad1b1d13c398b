import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { ChatService, RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { ResumeFailedError } from "./resume-failed-error.js";
import { isRetryable } from "./retryable.js";

/** Options of ParleyClient.subscribe. */
export interface SubscribeOptions {
  /** The last seq the caller already has; undefined starts live. */
  sinceSeq?: number | undefined;
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
  | { state: "live"; epoch: string; lastSeq: number | undefined }
  | { state: "retrying"; attempt: number; delayMs: number; error: ConnectError };

/** Tuning shared by every subscription of a client. */
export interface ResumeTuning {
  backoff: BackoffOptions;
  /** No response for this long means the stream is dead (heartbeats come every 15 s). */
  silenceTimeoutMs: number;
}

/**
 * Subscribe to a room and keep subscribing: on a transient failure or a
 * silent stream, reconnect with backoff and resume from the last seq
 * delivered, in the same epoch. Message events are yielded exactly once, in
 * seq order, with no gap; other events (ready on each connection, join,
 * leave, heartbeat) pass through. A resume the server refuses (epoch changed,
 * seq past retention) throws ResumeFailedError; other non-transient errors
 * throw as ConnectError. Aborting `signal` ends the iteration quietly.
 */
export async function* resumingSubscribe(
  rpc: Client<typeof ChatService>,
  room: string,
  options: SubscribeOptions,
  tuning: ResumeTuning,
): AsyncGenerator<RoomEvent> {
  let lastSeq = options.sinceSeq;
  let epoch = options.epoch ?? "";
  const stop = options.signal;
  for (let attempt = 0; !stop?.aborted; ) {
    options.onStatus?.({ state: "connecting", attempt });
    const call = new AbortController();
    const abortCall = () => call.abort(stop?.reason);
    stop?.addEventListener("abort", abortCall, { once: true });
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const resetWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(
        () =>
          call.abort(
            new ConnectError(`no event for ${tuning.silenceTimeoutMs} ms`, Code.DeadlineExceeded),
          ),
        tuning.silenceTimeoutMs,
      );
    };
    let failure: ConnectError;
    try {
      resetWatchdog();
      const stream = rpc.subscribe(
        {
          room,
          sinceSeq: lastSeq === undefined ? undefined : BigInt(lastSeq),
          epoch,
          author: options.author ?? "",
        },
        { signal: call.signal },
      );
      for await (const response of stream) {
        resetWatchdog();
        attempt = 0;
        for (const event of response.events) {
          const e = event.event;
          if (e.case === "ready") {
            epoch = e.value.epoch;
            lastSeq ??= Number(e.value.lastSeq);
            options.onStatus?.({ state: "live", epoch, lastSeq });
          } else if (e.case === "message") {
            const seq = Number(e.value.seq);
            if (lastSeq !== undefined && seq <= lastSeq) continue;
            if (lastSeq !== undefined && seq !== lastSeq + 1) {
              throw new ConnectError(
                `expected seq ${lastSeq + 1}, got ${seq}: reconnecting`,
                Code.Aborted,
              );
            }
            lastSeq = seq;
          }
          yield event;
        }
      }
      failure = new ConnectError("the server ended the subscription", Code.Unavailable);
    } catch (error) {
      if (stop?.aborted) return;
      failure = call.signal.aborted
        ? ConnectError.from(call.signal.reason)
        : ConnectError.from(error);
    } finally {
      clearTimeout(watchdog);
      stop?.removeEventListener("abort", abortCall);
      call.abort();
    }
    const refused = ResumeFailedError.from(failure, room, lastSeq);
    if (refused) throw refused;
    if (!isRetryable(failure)) throw failure;
    const delayMs = backoffDelay(attempt, tuning.backoff);
    options.onStatus?.({ state: "retrying", attempt, delayMs, error: failure });
    attempt++;
    try {
      await sleep(delayMs, stop);
    } catch {
      return;
    }
  }
}
