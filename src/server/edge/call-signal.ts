import { Code, ConnectError } from "@connectrpc/connect";
import { unwatchShutdown, watchShutdown } from "./shutdown-watch.js";

/** The reason a call's signal gives when its deadline passes, as connect-node gives it. */
export function deadlinePassed(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/**
 * A call's abort signal, the one way every adapter makes it: it aborts
 * (once, with the first reason) when the client goes away (`clientGone`, or a
 * followed signal), when the deadline passes (DEADLINE_EXCEEDED), when the
 * server shuts down (the shutdown signal's reason, followed through
 * watchShutdown so that open calls do not each add a listener to it), or when
 * the adapter aborts it. release() drops every link; call it once the call
 * is over.
 */
export class CallSignal {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private followed: AbortSignal | undefined;
  private readonly onShutdown = (reason: unknown) => this.abort(reason);
  private readonly onFollowed = () => this.abort(this.followed?.reason);

  /** `shutdown`: the server's shutdown signal, when calls end with it one by one. */
  constructor(private readonly shutdown?: AbortSignal) {
    if (shutdown !== undefined) watchShutdown(shutdown, this.onShutdown);
  }

  /** Aborts when the call ends, however it ends; the reason says how. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Abort with DEADLINE_EXCEEDED after `timeoutMs` (at once when it is not positive). */
  setDeadline(timeoutMs: number): void {
    if (timeoutMs <= 0) this.abort(deadlinePassed());
    else this.timer = setTimeout(() => this.abort(deadlinePassed()), timeoutMs);
  }

  /** Abort when `signal` does (a framework's own per-call signal), with its reason. */
  follow(signal: AbortSignal): void {
    this.followed = signal;
    if (signal.aborted) this.onFollowed();
    else signal.addEventListener("abort", this.onFollowed, { once: true });
  }

  /** The client went away: abort with `reason` (CANCELED by default). */
  clientGone(reason: unknown = new ConnectError("the client went away", Code.Canceled)): void {
    this.abort(reason);
  }

  /** Abort with `reason` unless already aborted. */
  abort(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Drop the deadline, the shutdown watch and any followed signal. */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.shutdown !== undefined) unwatchShutdown(this.shutdown, this.onShutdown);
    this.followed?.removeEventListener("abort", this.onFollowed);
  }
}
