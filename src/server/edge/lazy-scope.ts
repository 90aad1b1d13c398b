import type { CallEnd } from "../../calls/call-end.js";
import type { CallInfo } from "../../calls/call-info.js";
import type { CallScope } from "../../calls/method-core.js";

/**
 * A core's scope whose signal is made only if the core reads it, which a
 * unary Send never does: `source` is a CallSignal, or a call that holds one,
 * and makes its AbortSignal on first read (see CallSignal). Its `end` needs
 * none, which a stream's core uses instead (see CallEnd).
 */
export class LazyScope implements CallScope {
  constructor(
    readonly call: CallInfo,
    private readonly source: { readonly signal: AbortSignal; readonly end: CallEnd },
  ) {}

  get signal(): AbortSignal {
    return this.source.signal;
  }

  get end(): CallEnd {
    return this.source.end;
  }
}
