/**
 * How a call (or a feed inside one) hears that it must stop, without an
 * AbortSignal. A Node AbortSignal is an EventTarget with a hidden class of
 * its own and a listener map: about 0.6 KiB an open stream holds
 * (bench/stream-heap.ts --census). The direct gRPC path's CallSignal is a
 * CallEnd itself, with no AbortSignal made; any AbortSignal can be wrapped
 * as one (endOfSignal).
 */
export interface CallEnd {
  readonly aborted: boolean;
  /** Why it stopped, once aborted. */
  readonly reason: unknown;
  /** Run `hook` with the reason when it stops, at once if it has; the returned function removes it. */
  onAbort(hook: (reason: unknown) => void): () => void;
}

/** An AbortSignal as a CallEnd. */
export function endOfSignal(signal: AbortSignal): CallEnd {
  return new SignalEnd(signal);
}

class SignalEnd implements CallEnd {
  constructor(private readonly signal: AbortSignal) {}

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason;
  }

  onAbort(hook: (reason: unknown) => void): () => void {
    const signal = this.signal;
    if (signal.aborted) {
      hook(signal.reason);
      return () => undefined;
    }
    const listener = () => hook(signal.reason);
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  }
}
