import { randomBytes } from "node:crypto";
import { roomMetrics } from "../metrics/room-metrics.js";
import type { MessageLog } from "../store/message-log.js";
import { checkResume, type ResumePoint, trimmedWhileReading } from "./resume-errors.js";
import type { Member, Room } from "./room.js";
import { messageEvent, type QueuedEvent, readyEvent } from "./room-event.js";
import { type QueueLimits, Subscription } from "./subscription.js";

/** How many stored messages one response carries while replaying history. */
const REPLAY_PAGE = 500;

/** What a subscriber asks for. */
export interface StreamRequest extends ResumePoint {
  /** Display name announced in join and leave events ("" for anonymous). */
  author: string;
  /** Follow the room without being a member of it (see Subscription.silent). */
  silent?: boolean;
}

/** Where a feed delivers: the response side of one subscriber's stream. */
export interface EventSink {
  /** Write a batch; false when the consumer's buffer is full (the feed then waits for drained()). */
  deliver(batch: QueuedEvent[]): boolean;
  /** Resolves when the consumer can take more, or has gone. */
  drained(): Promise<void>;
  /** The feed is over, for this reason (the signal's reason when it aborted); called once. */
  end(error: unknown): void;
}

/**
 * A room's events for one subscriber, pushed into `sink` as batches:
 * `ready`, then the stored messages after sinceSeq, then live events, until
 * `signal` aborts or the subscription fails.
 *
 * The seam between history and live follows the order Centrifugo uses: attach
 * to live first (events queue up), then read the head and the history, then
 * drain the queue dropping every message at or below the last seq delivered.
 * A live message that arrives with a seq beyond the next expected one (it can
 * only happen at the seam, or with a store shared by several processes) is
 * preceded by the missing range read from the store. So each message is
 * delivered exactly once, in seq order.
 *
 * Live delivery is a callback from the subscription, once per event-loop
 * turn, that writes synchronously while the sink keeps up: an idle
 * subscriber holds no suspended coroutine, and a delivery costs no promise.
 */
export function feedRoom(
  openRoom: () => Room,
  log: MessageLog,
  request: StreamRequest,
  limits: QueueLimits & { newMemberId?: () => string },
  signal: AbortSignal,
  sink: EventSink,
): void {
  // The room is looked up only when the feed starts: a Room object with no
  // subscribers is released, so one fetched earlier could be stale by now.
  const room = openRoom();
  const memberId = limits.newMemberId?.() ?? randomBytes(6).toString("base64url");
  const sub = new Subscription(memberId, request.author, limits, request.silent === true);
  // A subscriber cut off while its stream waits (on a sink that never
  // drains, or in the history replay) leaves the room at once: it is no
  // longer listed as a member, and its stream ends with the reason.
  sub.whenFailed((error) => finish(error));
  room.attach(sub);
  let cursor = 0;
  let ended = false;
  let pumping = false;

  const finish = (error: unknown) => {
    if (ended) return;
    ended = true;
    sub.unlisten();
    signal.removeEventListener("abort", onAbort);
    room.detach(sub);
    sink.end(error);
  };
  const onAbort = () => finish(signal.reason);
  if (signal.aborted) {
    finish(signal.reason);
    return;
  }
  signal.addEventListener("abort", onAbort, { once: true });

  const send = async (batch: QueuedEvent[]) => {
    roomMetrics.deliveries.value += batch.length;
    if (!sink.deliver(batch)) await sink.drained();
  };
  const readUpTo = async (lastWanted: number) => {
    while (cursor < lastWanted && !ended) {
      const page = await log.read(room.name, {
        afterSeq: cursor,
        beforeSeq: lastWanted + 1,
        limit: REPLAY_PAGE,
        newest: false,
      });
      if (page[0]?.seq !== cursor + 1)
        throw trimmedWhileReading(room.name, cursor + 1, page[0]?.seq);
      cursor = page[page.length - 1]?.seq ?? cursor;
      await send(page.map(messageEvent));
    }
  };
  /**
   * Deliver one batch taken from the queue, without what the client already
   * has. Synchronous while the sink keeps up and the seqs follow on (the
   * live path costs no promise); returns a promise only when it has to wait
   * for a full sink or read a gap from the store.
   */
  const handle = (batch: readonly QueuedEvent[]): Promise<void> | undefined => {
    const out: QueuedEvent[] = [];
    for (let i = 0; i < batch.length; i++) {
      const queued = batch[i] as QueuedEvent;
      if (queued.seq === 0) {
        out.push(queued);
        continue;
      }
      if (queued.seq <= cursor) continue;
      if (queued.seq > cursor + 1) return fillGapThenHandle(out, batch.slice(i));
      out.push(queued);
      cursor = queued.seq;
    }
    roomMetrics.deliveries.value += out.length;
    if (out.length > 0 && !sink.deliver(out)) return sink.drained();
    return undefined;
  };
  /** What handle() found before a gap goes first, then the missing range from the store, then the rest. */
  const fillGapThenHandle = async (before: QueuedEvent[], rest: QueuedEvent[]) => {
    if (before.length > 0) await send(before);
    await readUpTo((rest[0] as QueuedEvent).seq - 1);
    if (!ended) await handle(rest);
  };
  const pump = (): void => {
    if (pumping || ended) return;
    pumping = true;
    try {
      for (let batch = sub.takeNow(); batch !== undefined && !ended; batch = sub.takeNow()) {
        const waiting = handle(batch);
        if (waiting === undefined) {
          sub.caughtUp();
        } else {
          waiting.then(
            () => {
              sub.caughtUp();
              pumping = false;
              pump();
            },
            (error: unknown) => {
              pumping = false;
              finish(error);
            },
          );
          return;
        }
      }
    } catch (error) {
      finish(error);
    }
    pumping = false;
  };

  void (async () => {
    try {
      // The other processes' members (Redis) are read while the head is.
      // A silent follower lists no members, so it need not wait for them.
      const [head] = await Promise.all([
        log.head(room.name),
        request.silent === true ? undefined : room.membersKnown(),
      ]);
      const refusal = checkResume(room.name, request, head);
      if (refusal) throw refusal;
      room.noteLastSeq(head.lastSeq);
      // The list and the queue are cut in the same turn: the join and leave
      // events queued from here on are exactly the changes to this list.
      const members: Member[] = room.members();
      sub.dropQueuedMembership();
      await send([readyEvent(room.name, head, sub.memberId, members)]);
      cursor = request.sinceSeq ?? head.lastSeq;
      await readUpTo(head.lastSeq);
    } catch (error) {
      finish(error);
      return;
    }
    if (ended) return;
    sub.listen(pump);
    pump();
  })();
}
