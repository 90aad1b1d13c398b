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
 * Subscriptions with events waiting whose streams are asleep. They are woken
 * together once per event-loop turn (setImmediate), not one by one as events
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
  private wake: (() => void) | undefined;
  private signal: AbortSignal | undefined;
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
    if (this.wake && !this.wakePending) {
      this.wakePending = true;
      sleepers.push(this);
      if (!wakeScheduled) {
        wakeScheduled = true;
        setImmediate(wakeSleepers);
      }
    }
    return true;
  }

  /** End the subscription with an error; queued events are dropped. */
  fail(error: ConnectError): void {
    if (this.failure) return;
    this.failure = error;
    this.queue = [];
    this.queuedBytes = 0;
    this.wakeUp();
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
   * Take every queued event, waiting until there is at least one. Rejects with
   * the subscription's failure, or with the signal's reason when it aborts.
   */
  async take(signal: AbortSignal): Promise<QueuedEvent[]> {
    if (this.queue.length === 0 && !this.failure) {
      // One abort listener for the subscription's life, not one per wait:
      // a stream that keeps up waits once per batch.
      if (this.signal !== signal) {
        this.signal = signal;
        signal.addEventListener("abort", () => this.wakeUp(), { once: true });
      }
      while (this.queue.length === 0 && !this.failure) {
        signal.throwIfAborted();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    }
    if (this.failure) throw this.failure;
    signal.throwIfAborted();
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.lastDeliveryMs = Date.now();
    return batch;
  }

  /** Resume a stream waiting in take() (from the turn's wake-up, a failure or an abort). */
  wakeUp(): void {
    this.wakePending = false;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
