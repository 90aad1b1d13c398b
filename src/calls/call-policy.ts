import type { CallInfo } from "./call-info.js";

/**
 * One link of the chain every call passes, on every protocol and path.
 *
 * `admit` decides before the call runs. It refuses the call by throwing, or
 * by returning a promise that rejects, with a ConnectError whose code and
 * message are the answer; a promise holds the call until it settles. It may
 * attach values for the cores (call.values).
 *
 * `finished` hears how each call this link admitted ended: `error` is
 * undefined for OK, else the call's error, a refusal by a later link
 * included. Links are told innermost first.
 *
 * Hooks, not wrappers around the rest of the chain: a wrapper holds a
 * promise, its reactions and their closures for as long as the call is
 * open, in every link, which an idle stream paid for (bench/stream-heap.ts).
 */
export interface CallPolicy {
  admit?(call: CallInfo): void | Promise<void>;
  finished?(call: CallInfo, error: unknown): void;
}

/**
 * Run the chain for a call: each link's admit in order, then `serve` (which
 * answers the call and settles when it has finished: resolved for OK,
 * rejected with the error the client was told), then every admitting link's
 * finished. `refuse` gets the error of a link that refused the call, which
 * `serve` then never sees; errors of the call itself are answered by
 * `serve`. An adapter that may answer a refusal with another error (a body
 * it cannot decode is answered first, as connect-node answers it) returns a
 * promise from `refuse` that rejects with what the client was told, and the
 * links hear that.
 */
export function admit(
  policies: readonly CallPolicy[],
  call: CallInfo,
  serve: () => Promise<void>,
  refuse: (error: unknown) => void | Promise<void>,
): void {
  new Admission(policies, call, serve, refuse).advance();
}

/**
 * One call's way through the chain. A class, and `serve` and `refuse` are
 * dropped once used: an open stream keeps this object and the two
 * callbacks waiting for its end, not the adapter's closures.
 */
class Admission {
  /** How many links admitted the call: those are told how it ended. */
  private admitted = 0;

  constructor(
    private readonly policies: readonly CallPolicy[],
    private readonly call: CallInfo,
    private serve: (() => Promise<void>) | undefined,
    private refuse: ((error: unknown) => void | Promise<void>) | undefined,
  ) {}

  advance(): void {
    const { policies, call } = this;
    while (this.admitted < policies.length) {
      let waiting: void | Promise<void>;
      try {
        waiting = (policies[this.admitted] as CallPolicy).admit?.(call);
      } catch (error) {
        this.refused(error);
        return;
      }
      if (waiting !== undefined) {
        waiting.then(
          () => {
            this.admitted++;
            this.advance();
          },
          (error: unknown) => this.refused(error),
        );
        return;
      }
      this.admitted++;
    }
    const serve = this.serve as () => Promise<void>;
    this.serve = undefined;
    this.refuse = undefined;
    serve().then(
      () => this.ended(undefined),
      (error: unknown) => this.ended(error),
    );
  }

  private refused(error: unknown): void {
    const refuse = this.refuse;
    this.serve = undefined;
    this.refuse = undefined;
    const answered = refuse?.(error);
    if (answered === undefined) {
      this.ended(error);
      return;
    }
    answered.then(
      () => this.ended(error),
      (told: unknown) => this.ended(told),
    );
  }

  private ended(error: unknown): void {
    for (let i = this.admitted - 1; i >= 0; i--) {
      try {
        this.policies[i]?.finished?.(this.call, error);
      } catch {
        // An observer's failure must not end the others' view of the call, nor the call.
      }
    }
  }
}
