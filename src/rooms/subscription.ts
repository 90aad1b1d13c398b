import { Code, ConnectError } from "@connectrpc/connect";
import { roomMetrics } from "../metrics/room-metrics.js";
import type { QueuedEvent } from "./room-event.js";

/**
 * How one subscriber is judged too slow. A subscriber is cut off when what it
 * leaves unread (events queued for it, plus the batch its stream has not
 * taken yet) stays over the budget (`maxEvents` or `maxBytes`) for longer
 * than `graceMs`, or at once when it passes `maxBytes * HARD_CAP_FACTOR`.
 * A burst larger than the budget is no fault: a subscriber that drains it
 * within the grace period keeps its stream.
 */
export interface QueueLimits {
  /** Events a subscriber may leave unread for longer than the grace period. */
  maxEvents: number;
  /** Encoded bytes a subscriber may leave unread for longer than the grace period. */
  maxBytes: number;
  /** How long a subscriber may stay over the budget (ms); DEFAULT_GRACE_MS when omitted. */
  graceMs?: number;
}

/** How long a subscriber may stay over its queue budget when not told otherwise (ms). */
export const DEFAULT_GRACE_MS = 5000;

/**
 * The hard cap on one subscriber's unread bytes, as a multiple of its budget:
 * the memory a subscriber that never drains can hold, whatever the grace.
 */
export const HARD_CAP_FACTOR = 4;

/**
 * Subscriptions with events waiting whose listeners were not told yet. They
 * are told together once per event-loop turn (setImmediate), not one by one as events
 * arrive: everything published during the turn (a burst of messages, a
 * thousand joins) then leaves as one response per subscriber instead of one
 * response per event, and the per-response cost (framing, one HTTP/2 write)
 * is paid once per turn.
 */
const sleepers: Subscription[] = [];
let wakeScheduled = false;

function wakeSleepers(): void {
  wakeScheduled = false;
  const due = sleepers.splice(0);
  for (const sub of due) sub.wakeUp();
}

/**
 * One subscriber's outgoing queue, judged by what it fails to drain over
 * time (see QueueLimits). The room pushes events into it synchronously; the
 * subscriber's stream takes them out in batches and says when its sink has
 * caught up. A subscriber too slow fails with RESOURCE_EXHAUSTED and its
 * queue is freed: the client resumes from the last seq it received and loses
 * nothing.
 */
export class Subscription {
  private queue: QueuedEvent[] = [];
  private queuedBytes = 0;
  /** The last batch taken, while the stream's sink has not caught up with it. */
  private heldEvents = 0;
  private heldBytes = 0;
  /** Since when (ms) the unread events have been over the budget; undefined while within it. */
  private overSince: number | undefined;
  private readonly graceMs: number;
  private readonly hardCapBytes: number;
  private failure: ConnectError | undefined;
  private listener: (() => void) | undefined;
  private onFailure: ((error: ConnectError) => void) | undefined;
  private wakePending = false;
  /** When an event was last handed to the stream (ms), for heartbeats. */
  lastDeliveryMs = Date.now();

  constructor(
    readonly memberId: string,
    readonly author: string,
    private readonly limits: QueueLimits,
    /**
     * A follower that is no member (a user's feed following one of its
     * rooms): it gets the room's events but is never announced, listed or
     * counted as subscribed.
     */
    readonly silent = false,
  ) {
    this.graceMs = limits.graceMs ?? DEFAULT_GRACE_MS;
    this.hardCapBytes = limits.maxBytes * HARD_CAP_FACTOR;
  }

  /** Queue an event; returns false when the subscription has failed (now or before). */
  push(event: QueuedEvent): boolean {
    if (this.failure) return false;
    if (event.skipMember === this.memberId) return true;
    this.queue.push(event);
    this.queuedBytes += event.size;
    roomMetrics.queueBytes.value += event.size;
    this.judge(undefined);
    if (this.failure) return false;
    this.scheduleWake();
    return true;
  }

  /**
   * Cut the subscription off if it has stayed over its budget past the
   * grace period. Pushes judge as they come; the hub calls this on its tick
   * so that a subscriber over budget in a room gone quiet is judged too.
   */
  checkBacklog(nowMs: number): void {
    if (!this.failure) this.judge(nowMs);
  }

  /**
   * Drop the join and leave events queued so far: a member list taken now
   * (for Ready) already reflects them.
   */
  dropQueuedMembership(): void {
    const kept: QueuedEvent[] = [];
    let bytes = 0;
    for (const queued of this.queue) {
      const c = queued.seq === 0 ? queued.event.event.case : undefined;
      if (c === "join" || c === "leave") continue;
      kept.push(queued);
      bytes += queued.size;
    }
    this.queue = kept;
    this.queuedBytes = bytes;
  }

  /** End the subscription with an error; queued events are dropped. */
  fail(error: ConnectError): void {
    if (this.failure) return;
    this.failure = error;
    roomMetrics.queueBytes.value -= this.queuedBytes + this.heldBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.heldEvents = 0;
    this.heldBytes = 0;
    // Told in the next wake-up, not now: a failure found while publishing
    // must not end the stream (and announce its leave) in the middle of that
    // publication.
    this.scheduleWake(true);
  }

  /** True once the subscription has failed. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** True while nothing is waiting. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /**
   * Call `onEvents` once per event-loop turn in which events were queued;
   * the consumer then calls takeNow().
   */
  listen(onEvents: () => void): void {
    this.listener = onEvents;
  }

  /** Stop calling the listener (and the failure handler). */
  unlisten(): void {
    this.listener = undefined;
    this.onFailure = undefined;
    // The stream is over: what it left unread is no longer held for it.
    roomMetrics.queueBytes.value -= this.queuedBytes + this.heldBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.heldBytes = 0;
  }

  /**
   * Call `onFailed` (once, from a wake-up) when the subscription fails,
   * whether or not a listener is set and whatever the stream is waiting for:
   * a stream stuck on a sink that never drains is ended all the same.
   */
  whenFailed(onFailed: (error: ConnectError) => void): void {
    this.onFailure = onFailed;
  }

  /**
   * Every queued event, or undefined when none is waiting. Throws the
   * subscription's failure. The batch counts as unread until caughtUp().
   */
  takeNow(): QueuedEvent[] | undefined {
    if (this.failure) throw this.failure;
    if (this.queue.length === 0) return undefined;
    const batch = this.queue;
    this.heldEvents += batch.length;
    this.heldBytes += this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.lastDeliveryMs = Date.now();
    return batch;
  }

  /** The stream's sink has taken everything handed to it so far (it did not push back, or drained). */
  caughtUp(): void {
    roomMetrics.queueBytes.value -= this.heldBytes;
    this.heldEvents = 0;
    this.heldBytes = 0;
    if (!this.failure) this.judge(undefined);
  }

  /** Tell the failure handler or the listener (from the turn's wake-up). */
  wakeUp(): void {
    this.wakePending = false;
    if (this.failure) {
      const told = this.onFailure;
      this.onFailure = undefined;
      told?.(this.failure);
      return;
    }
    this.listener?.();
  }

  /**
   * Start, keep or stop the over-budget clock, and fail the subscription
   * past the hard cap or the grace period. `nowMs` is read only while over
   * budget: the common case costs no clock read.
   */
  private judge(nowMs: number | undefined): void {
    const bytes = this.queuedBytes + this.heldBytes;
    const events = this.queue.length + this.heldEvents;
    if (bytes <= this.limits.maxBytes && events <= this.limits.maxEvents) {
      this.overSince = undefined;
      return;
    }
    if (bytes > this.hardCapBytes) {
      roomMetrics.cutoffHardCap.value++;
      this.fail(
        new ConnectError(
          `subscriber too slow: ${bytes} bytes unread, over the cap of ${this.hardCapBytes}; resume with since_seq set to the last seq received`,
          Code.ResourceExhausted,
        ),
      );
      return;
    }
    const now = nowMs ?? Date.now();
    this.overSince ??= now;
    if (now - this.overSince > this.graceMs) {
      roomMetrics.cutoffGrace.value++;
      this.fail(
        new ConnectError(
          `subscriber too slow: more than ${this.limits.maxEvents} events or ${this.limits.maxBytes} bytes unread for over ${this.graceMs} ms; resume with since_seq set to the last seq received`,
          Code.ResourceExhausted,
        ),
      );
    }
  }

  private scheduleWake(failing = false): void {
    if (this.wakePending) return;
    if (!failing && this.listener === undefined) return;
    this.wakePending = true;
    sleepers.push(this);
    if (!wakeScheduled) {
      wakeScheduled = true;
      setImmediate(wakeSleepers);
    }
  }
}
