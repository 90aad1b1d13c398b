import { randomBytes } from "node:crypto";

/**
 * A call's place in a distributed trace (W3C Trace Context), when the
 * client sent a valid `traceparent`: the trace it belongs to, the span this
 * server gives the call, and the client's trace flags (passed on as they came).
 */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** This call's own span: 16 lowercase hex digits made here. */
  readonly spanId: string;
  /** 2 lowercase hex digits. */
  readonly flags: string;
}

/**
 * version-traceid-parentid-flags. Version 00 has exactly these four fields;
 * a later version may append more after a dash, which a version-00 reader
 * ignores (the specification's forward-compatibility rule).
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_PARENT = "0".repeat(16);

/**
 * The trace context of a call whose client sent `traceparent`, or undefined
 * when it sent none or one that is not valid: the specification says an
 * invalid header is ignored (the call goes on untraced), never refused.
 */
export function traceContextFrom(header: string | undefined): TraceContext | undefined {
  if (header === undefined) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null) return undefined;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  return { traceId, spanId: newSpanId(), flags };
}

/** The `traceparent` to answer with: the same trace, this call's span as the parent of what follows. */
export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString("hex");
    if (id !== ZERO_PARENT) return id;
  }
}
