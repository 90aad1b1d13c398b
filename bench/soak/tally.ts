import { setMaxListeners } from "node:events";

/** Counts of one abuse: what was tried and how the server answered, by outcome name. */
export class Tally {
  private readonly counts = new Map<string, number>();

  constructor(readonly name: string) {}

  /** Count one outcome ("opened", "closed by server", "grpc-status 8", ...). */
  add(outcome: string, n = 1): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + n);
  }

  /** The outcomes in the order first seen, as "outcome: n" pairs. */
  entries(): [string, number][] {
    return [...this.counts];
  }
}

/** An abuse running in the background until stopped. */
export interface Abuse {
  readonly tally: Tally;
  /** Stop starting new attempts and release every socket it holds. */
  stop(): Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/**
 * An AbortController for stopping an abuse: many of its loops wait on it at
 * once (a pause each), more than Node's default of 10 listeners.
 */
export function stopper(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
