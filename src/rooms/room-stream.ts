import { randomBytes } from "node:crypto";
import type { CallEnd } from "../calls/call-end.js";
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
 * `end` aborts or the subscription fails.
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
  end: CallEnd,
  sink: EventSink,
): void {
  // The room is looked up only when the feed starts: a Room object with no
  // subscribers is released, so one fetched earlier could be stale by now.
  new RoomFeed(openRoom(), log, request, limits, end, sink).start();
}

/**
 * One subscriber's feed (see feedRoom). A class, not a function of
 * closures: it lives as long as the stream, and its methods on the
 * prototype cost an idle stream nothing; only the two callbacks handed to
 * the subscription are closures (bench/stream-heap.ts --census).
 */
class RoomFeed {
  private readonly sub: Subscription;
  /** The last message seq delivered (or skipped as already held by the client). */
  private cursor = 0;
  private ended = false;
  private pumping = false;
  /** Stops hearing of the call's end. */
  private unhook: (() => void) | undefined;
  /** Live delivery: called by the subscription once per turn with events queued. */
  private readonly pump = () => this.pumpNow();

  constructor(
    private readonly room: Room,
    private readonly log: MessageLog,
    private readonly request: StreamRequest,
    limits: QueueLimits & { newMemberId?: () => string },
    private readonly end: CallEnd,
    private readonly sink: EventSink,
  ) {
    const memberId = limits.newMemberId?.() ?? randomBytes(6).toString("base64url");
    this.sub = new Subscription(memberId, request.author, limits, request.silent === true);
  }

  start(): void {
    const { sub, end } = this;
    // A subscriber cut off while its stream waits (on a sink that never
    // drains, or in the history replay) leaves the room at once: it is no
    // longer listed as a member, and its stream ends with the reason.
    sub.whenFailed((error) => this.finish(error));
    this.room.attach(sub);
    if (end.aborted) {
      this.finish(end.reason);
      return;
    }
    this.unhook = end.onAbort((reason) => this.finish(reason));
    void this.replayThenFollow();
  }

  private finish(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.sub.unlisten();
    this.unhook?.();
    this.room.detach(this.sub);
    this.sink.end(error);
  }

  /** Ready, then the history the client asked for, then live events. */
  private async replayThenFollow(): Promise<void> {
    const { room, sub, request } = this;
    try {
      // The other processes' members (Redis) are read while the head is.
      // A silent follower lists no members, so it need not wait for them.
      const [head] = await Promise.all([
        this.log.head(room.name),
        request.silent === true ? undefined : room.membersKnown(),
      ]);
      const refusal = checkResume(room.name, request, head);
      if (refusal) throw refusal;
      room.noteLastSeq(head.lastSeq);
      // The list and the queue are cut in the same turn: the join and leave
      // events queued from here on are exactly the changes to this list.
      const members: Member[] = room.members();
      sub.dropQueuedMembership();
      await this.send([readyEvent(room.name, head, sub.memberId, members)]);
      this.cursor = request.sinceSeq ?? head.lastSeq;
      await this.readUpTo(head.lastSeq);
    } catch (error) {
      this.finish(error);
      return;
    }
    if (this.ended) return;
    sub.listen(this.pump);
    this.pumpNow();
  }

  private async send(batch: QueuedEvent[]): Promise<void> {
    roomMetrics.deliveries.value += batch.length;
    if (!this.sink.deliver(batch)) await this.sink.drained();
  }

  private async readUpTo(lastWanted: number): Promise<void> {
    while (this.cursor < lastWanted && !this.ended) {
      const page = await this.log.read(this.room.name, {
        afterSeq: this.cursor,
        beforeSeq: lastWanted + 1,
        limit: REPLAY_PAGE,
        newest: false,
      });
      if (page[0]?.seq !== this.cursor + 1)
        throw trimmedWhileReading(this.room.name, this.cursor + 1, page[0]?.seq);
      this.cursor = page[page.length - 1]?.seq ?? this.cursor;
      await this.send(page.map(messageEvent));
    }
  }

  /**
   * Deliver one batch taken from the queue, without what the client already
   * has. Synchronous while the sink keeps up and the seqs follow on (the
   * live path costs no promise); returns a promise only when it has to wait
   * for a full sink or read a gap from the store.
   */
  private handle(batch: readonly QueuedEvent[]): Promise<void> | undefined {
    const out: QueuedEvent[] = [];
    for (let i = 0; i < batch.length; i++) {
      const queued = batch[i] as QueuedEvent;
      if (queued.seq === 0) {
        out.push(queued);
        continue;
      }
      if (queued.seq <= this.cursor) continue;
      if (queued.seq > this.cursor + 1) return this.fillGapThenHandle(out, batch.slice(i));
      out.push(queued);
      this.cursor = queued.seq;
    }
    roomMetrics.deliveries.value += out.length;
    if (out.length > 0 && !this.sink.deliver(out)) return this.sink.drained();
    return undefined;
  }

  /** What handle() found before a gap goes first, then the missing range from the store, then the rest. */
  private async fillGapThenHandle(before: QueuedEvent[], rest: QueuedEvent[]): Promise<void> {
    if (before.length > 0) await this.send(before);
    await this.readUpTo((rest[0] as QueuedEvent).seq - 1);
    if (!this.ended) await this.handle(rest);
  }

  private pumpNow(): void {
    if (this.pumping || this.ended) return;
    const sub = this.sub;
    this.pumping = true;
    try {
      for (let batch = sub.takeNow(); batch !== undefined && !this.ended; batch = sub.takeNow()) {
        const waiting = this.handle(batch);
        if (waiting === undefined) {
          sub.caughtUp();
        } else {
          waiting.then(
            () => {
              sub.caughtUp();
              this.pumping = false;
              this.pumpNow();
            },
            (error: unknown) => {
              this.pumping = false;
              this.finish(error);
            },
          );
          return;
        }
      }
    } catch (error) {
      this.finish(error);
    }
    this.pumping = false;
  }
}
