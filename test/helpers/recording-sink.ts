import type { QueuedEvent } from "../../src/rooms/room-event.js";
import type { EventSink } from "../../src/rooms/room-stream.js";

/** A delivered event in a test's terms: a message's seq, or another event's kind. */
export type Shape = number | string;

/**
 * An EventSink that records every batch a feed delivers. While `full`,
 * deliver() answers false and drained() waits until the test calls drain():
 * a consumer whose buffer is full.
 */
export class RecordingSink implements EventSink {
  readonly batches: QueuedEvent[][] = [];
  /** Set by end(), with its reason. */
  ended: { reason: unknown } | undefined;
  /** How many times end() was called (a feed must call it once). */
  endCalls = 0;
  full = false;
  private readonly waiting: (() => void)[] = [];

  deliver(batch: QueuedEvent[]): boolean {
    this.batches.push(batch);
    return !this.full;
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  end(reason: unknown): void {
    this.endCalls++;
    this.ended = { reason };
  }

  /** The consumer took everything: deliver() accepts again and drained() resolves. */
  drain(): void {
    this.full = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** How many drained() calls are waiting. */
  get drainWaiters(): number {
    return this.waiting.length;
  }

  /** Every batch as shapes: [["ready"], [1, 2, 3], [4]]. */
  get shapes(): Shape[][] {
    return this.batches.map((batch) => batch.map((q) => q.seq || (q.event.event.case ?? "?")));
  }
}

/**
 * Let every promise and setImmediate that is ready run (the hub wakes
 * subscribers once per event-loop turn). Nothing in a scripted test waits
 * on a timer, so a few turns reach the point where only the test can move
 * things on.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}
