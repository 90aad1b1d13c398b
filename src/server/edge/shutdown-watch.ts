/**
 * Every open call and stream waits on the server's one shutdown signal, so
 * how it waits matters at scale. A listener per call costs O(open calls) at
 * each call's start and end: Node's AbortSignal walks its whole listener
 * list on each addEventListener and removeEventListener (looking for a
 * duplicate). With 10,000 open Subscribes that was about a quarter of the
 * server's CPU under the many-rooms load. `AbortSignal.any([call, shutdown])`
 * is worse: on Node 20 (and later lines, nodejs/node#55351, #64476) it
 * leaves an entry in the long-lived signal for every composite ever made,
 * so memory grows with every stream the server has served.
 *
 * Here a signal gets one listener, and whoever waits on it sits in a Set.
 * A waiter is an object with an abort method (a CallSignal is one), so an
 * open call need not hold a closure for it.
 */
export interface ShutdownWaiter {
  abort(reason: unknown): void;
}

const waiting = new WeakMap<AbortSignal, Set<ShutdownWaiter>>();

/** Call `waiter.abort` with the signal's reason when it aborts (at once if it has). */
export function watchShutdown(signal: AbortSignal, waiter: ShutdownWaiter): void {
  if (signal.aborted) {
    waiter.abort(signal.reason);
    return;
  }
  let reactions = waiting.get(signal);
  if (reactions === undefined) {
    const created = new Set<ShutdownWaiter>();
    reactions = created;
    waiting.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        const due = [...created];
        created.clear();
        for (const w of due) w.abort(signal.reason);
      },
      { once: true },
    );
  }
  reactions.add(waiter);
}

/** Stop watching: `waiter` will not be called. */
export function unwatchShutdown(signal: AbortSignal, waiter: ShutdownWaiter): void {
  waiting.get(signal)?.delete(waiter);
}
