import { Code, ConnectError } from "@connectrpc/connect";
import type { QueuedEvent } from "./room-event.js";

/** Bounds on one subscriber's outgoing queue. */
export interface QueueLimits {
  /** Events waiting to be written, at most. */
  maxEvents: number;
  /** Encoded bytes waiting to be written, at most. */
  maxBytes: number;
}

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
 * One subscriber's bounded outgoing queue. The room pushes events into it
 * synchronously; the subscriber's stream takes them out in batches. When the
 * stream cannot keep up and the queue would overflow, the subscription fails
 * with RESOURCE_EXHAUSTED and its queue is freed: the client resumes from the
 * last seq it received and loses nothing.
 */
export class Subscription {
  private queue: QueuedEvent[] = [];
  private queuedBytes = 0;
  private failure: ConnectError | undefined;
  private listener: (() => void) | undefined;
  private wakePending = false;
  /** When an event was last handed to the stream (ms), for heartbeats. */
  lastDeliveryMs = Date.now();

  constructor(
    readonly memberId: string,
    readonly author: string,
    private readonly limits: QueueLimits,
  ) {}

  /** Queue an event; returns false when this push overflowed the queue (the subscription has failed). */
  push(event: QueuedEvent): boolean {
    if (this.failure) return false;
    if (event.skipMember === this.memberId) return true;
    if (
      this.queue.length + 1 > this.limits.maxEvents ||
      this.queuedBytes + event.size > this.limits.maxBytes
    ) {
      this.fail(
        new ConnectError(
          `subscriber too slow: more than ${this.limits.maxEvents} events or ${this.limits.maxBytes} bytes waiting; resume with since_seq set to the last seq received`,
          Code.ResourceExhausted,
        ),
      );
      return false;
    }
    this.queue.push(event);
    this.queuedBytes += event.size;
    this.scheduleWake();
    return true;
  }

  /** End the subscription with an error; queued events are dropped. */
  fail(error: ConnectError): void {
    if (this.failure) return;
    this.failure = error;
    this.queue = [];
    this.queuedBytes = 0;
    // Told in the next wake-up, not now: a failure found while publishing
    // must not end the stream (and announce its leave) in the middle of that
    // publication.
    this.scheduleWake();
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
   * Call `onEvents` once per event-loop turn in which events were queued
   * (and when the subscription fails); the consumer then calls takeNow().
   */
  listen(onEvents: () => void): void {
    this.listener = onEvents;
  }

  /** Stop calling the listener. */
  unlisten(): void {
    this.listener = undefined;
  }

  /** Every queued event, or undefined when none is waiting. Throws the subscription's failure. */
  takeNow(): QueuedEvent[] | undefined {
    if (this.failure) throw this.failure;
    if (this.queue.length === 0) return undefined;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.lastDeliveryMs = Date.now();
    return batch;
  }

  /** Tell the listener (from the turn's wake-up). */
  wakeUp(): void {
    this.wakePending = false;
    this.listener?.();
  }

  private scheduleWake(): void {
    if (this.listener === undefined || this.wakePending) return;
    this.wakePending = true;
    sleepers.push(this);
    if (!wakeScheduled) {
      wakeScheduled = true;
      setImmediate(wakeSleepers);
    }
  }
}
