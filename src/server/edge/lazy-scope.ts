import type { CallInfo } from "../../calls/call-info.js";
import type { CallScope } from "../../calls/method-core.js";

/**
 * A core's scope whose signal is made only if the core reads it, which a
 * unary Send never does: `source` is a CallSignal, or a call that holds one,
 * and makes its AbortSignal on first read (see CallSignal).
 */
export class LazyScope implements CallScope {
  constructor(
    readonly call: CallInfo,
    private readonly source: { readonly signal: AbortSignal },
  ) {}

  get signal(): AbortSignal {
    return this.source.signal;
  }
}
