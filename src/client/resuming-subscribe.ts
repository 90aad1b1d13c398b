import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { ChatService, RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import {
  type Connection,
  type ReconnectStatus,
  type ResumeTuning,
  reconnecting,
} from "./reconnecting.js";
import { ResumeFailedError } from "./resume-failed-error.js";

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
  | ReconnectStatus
  | { state: "live"; epoch: string; lastSeq: bigint | undefined };

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
  async function* connect(
    signal: AbortSignal,
    connection: Connection,
  ): AsyncGenerator<RoomEvent, ConnectError | undefined> {
    for await (const response of open({ sinceSeq: lastSeq, epoch }, signal)) {
      connection.alive();
      for (const event of response.events) {
        const e = event.event;
        if (e.case === "ready") {
          connection.started();
          epoch = e.value.epoch;
          lastSeq ??= e.value.lastSeq;
          options.onStatus?.({ state: "live", epoch, lastSeq });
        } else {
          if (e.case === "message") {
            const seq = e.value.seq;
            if (lastSeq !== undefined && seq <= lastSeq) continue;
            if (lastSeq !== undefined && seq !== lastSeq + 1n) {
              return new ConnectError(
                `expected seq ${lastSeq + 1n}, got ${seq}: reconnecting`,
                Code.Aborted,
              );
            }
            lastSeq = seq;
          }
          // Something past ready came through: this connection worked.
          connection.progressed();
        }
        yield event;
      }
    }
    return undefined;
  }
  yield* reconnecting(
    connect,
    {
      signal: options.signal,
      onStatus: options.onStatus,
      refusal: (failure) => ResumeFailedError.from(failure, room, lastSeq),
      retryAlso,
    },
    tuning,
  );
}
