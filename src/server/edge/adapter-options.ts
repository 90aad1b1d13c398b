import type { CallPolicy } from "../../calls/call-policy.js";

/**
 * What every adapter that runs the method cores itself is given, each the
 * same as the connect path's so that every path answers alike.
 */
export interface AdapterOptions {
  /** The call-policy chain every call passes. */
  readonly policies: readonly CallPolicy[];
  /** The server's shutdown signal; its reason ends open calls. */
  readonly shutdownSignal: AbortSignal;
  /** The largest request message (the contract's limit). */
  readonly readMaxBytes: number;
  /** The longest deadline a client may ask for; longer is INVALID_ARGUMENT. */
  readonly maxTimeoutMs: number;
}
