/**
 * Every open call waits on the server's one shutdown signal. Node's
 * AbortSignal walks its whole listener list on each addEventListener and
 * removeEventListener (looking for a duplicate), so a listener per call made
 * the start and the end of every call cost O(open calls): with 10,000 open
 * Subscribes, about a quarter of the server's CPU under the many-rooms load.
 * Here a signal gets one listener, and the calls waiting on it sit in a Set.
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
