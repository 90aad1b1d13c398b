import { Code, ConnectError } from "@connectrpc/connect";
import type { CallEnd } from "../../calls/call-end.js";
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
 *
 * The AbortSignal itself is made when first asked for: a unary call that
 * ends without anyone reading it (a Send) never pays for one, which was
 * about 3% of a unary gRPC Send's CPU time (bench/RESULTS.md, "Issue 22,
 * fourth session"). onAbort() is the cheap way for an adapter to hear of it.
 */
export class CallSignal implements CallEnd {
  private controller: AbortController | undefined;
  /** Set once, by the first abort. */
  private abortedWith: { readonly reason: unknown } | undefined;
  private hooks: ((reason: unknown) => void)[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A framework's signal this one follows, and its listener; only the connect path has one. */
  private followed: { signal: AbortSignal; listener: () => void } | undefined;

  /** `shutdown`: the server's shutdown signal, when calls end with it one by one. */
  constructor(private readonly shutdown?: AbortSignal) {
    // The call itself waits: its abort() is the waiter's (no closure per call).
    if (shutdown !== undefined) watchShutdown(shutdown, this);
  }

  /** Aborts when the call ends, however it ends; the reason says how. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** The call's end without an AbortSignal: this object itself. */
  get end(): CallEnd {
    return this;
  }

  /**
   * Run `hook` with the reason when the call aborts, at once if it has; the
   * returned function removes it. Unlike a listener on `signal`, it makes no
   * AbortSignal.
   */
  onAbort(hook: (reason: unknown) => void): () => void {
    if (this.abortedWith !== undefined) {
      hook(this.abortedWith.reason);
      return () => undefined;
    }
    this.hooks ??= [];
    this.hooks.push(hook);
    return () => {
      const at = this.hooks?.indexOf(hook) ?? -1;
      if (at >= 0) this.hooks?.splice(at, 1);
    };
  }

  /** Abort with DEADLINE_EXCEEDED after `timeoutMs` (at once when it is not positive). */
  setDeadline(timeoutMs: number): void {
    if (timeoutMs <= 0) this.abort(deadlinePassed());
    else this.timer = setTimeout(() => this.abort(deadlinePassed()), timeoutMs);
  }

  /** Abort when `signal` does (a framework's own per-call signal), with its reason. */
  follow(signal: AbortSignal): void {
    if (signal.aborted) {
      this.abort(signal.reason);
      return;
    }
    const listener = () => this.abort(signal.reason);
    this.followed = { signal, listener };
    signal.addEventListener("abort", listener, { once: true });
  }

  /** The client went away: abort with `reason` (CANCELED by default). */
  clientGone(reason: unknown = new ConnectError("the client went away", Code.Canceled)): void {
    this.abort(reason);
  }

  /** Abort with `reason` unless already aborted. */
  abort(reason: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
    const hooks = this.hooks;
    this.hooks = undefined;
    if (hooks !== undefined) for (const hook of hooks) hook(reason);
  }

  /** Drop the deadline, the shutdown watch and any followed signal. */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.shutdown !== undefined) unwatchShutdown(this.shutdown, this);
    this.followed?.signal.removeEventListener("abort", this.followed.listener);
    this.followed = undefined;
  }
}
