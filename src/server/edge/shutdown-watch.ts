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
 */
type React = (reason: unknown) => void;

const waiting = new WeakMap<AbortSignal, Set<React>>();

/** Call `react` with the signal's reason when it aborts (at once if it has). */
export function watchShutdown(signal: AbortSignal, react: React): void {
  if (signal.aborted) {
    react(signal.reason);
    return;
  }
  let reactions = waiting.get(signal);
  if (reactions === undefined) {
    const created = new Set<React>();
    reactions = created;
    waiting.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        const due = [...created];
        created.clear();
        for (const r of due) r(signal.reason);
      },
      { once: true },
    );
  }
  reactions.add(react);
}

/** Stop watching: `react` will not be called. */
export function unwatchShutdown(signal: AbortSignal, react: React): void {
  waiting.get(signal)?.delete(react);
}
