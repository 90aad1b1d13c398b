import type { DescMethod } from "@bufbuild/protobuf";
import type { CallAdapter, CallInfo, CallProtocol } from "../../calls/call-info.js";
import { requestIdFrom } from "../../calls/request-id.js";
import { type TraceContext, traceContextFrom } from "../../calls/trace-context.js";

/** What an adapter knows of a call when it arrives, in its transport's own terms. */
export interface CallArrival {
  readonly method: DescMethod;
  readonly protocol: CallProtocol;
  readonly encoding: "proto" | "json";
  readonly adapter: CallAdapter;
  /** The client's address and port (peerOf), or "in-process". */
  readonly peer: string;
  /** A request header by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /** The client's timeout in ms, already parsed; undefined: none given. */
  readonly timeoutMs: number | undefined;
  /** Used as the request id as given, instead of the x-request-id header (in-process calls). */
  readonly requestId?: string;
}

/**
 * The one place a CallInfo is made: every adapter (connect path, direct
 * gRPC, SSE, WebSocket) describes the call it received and gets the same
 * shape, so a new call field is one change here.
 */
export function callInfoOf(arrival: CallArrival): CallInfo {
  return new ArrivedCall(arrival);
}

/**
 * A call as policies see it. A class: its `values` map is made only when a
 * policy sets one (an identity; a server without auth never does), which an
 * open stream would otherwise hold empty.
 */
class ArrivedCall implements CallInfo {
  readonly method: DescMethod;
  readonly protocol: CallProtocol;
  readonly encoding: "proto" | "json";
  readonly adapter: CallAdapter;
  readonly peer: string;
  readonly header: (name: string) => string | undefined;
  readonly deadline: number | undefined;
  readonly requestId: string;
  readonly trace: TraceContext | undefined;
  readonly startedAt: number;
  private valueMap: Map<symbol, unknown> | undefined;

  constructor(arrival: CallArrival) {
    const { timeoutMs } = arrival;
    this.method = arrival.method;
    this.protocol = arrival.protocol;
    this.encoding = arrival.encoding;
    this.adapter = arrival.adapter;
    this.peer = arrival.peer;
    this.header = arrival.header;
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.requestId = arrival.requestId ?? requestIdFrom(arrival.header("x-request-id"));
    this.trace = traceContextFrom(arrival.header("traceparent"));
    this.startedAt = performance.now();
  }

  get values(): Map<symbol, unknown> {
    this.valueMap ??= new Map();
    return this.valueMap;
  }

  value(key: symbol): unknown {
    return this.valueMap?.get(key);
  }
}

/** One value of a Node header (string, string[] or absent) as a string; lists are joined with ", ". */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
