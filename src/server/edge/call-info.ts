import type { DescMethod } from "@bufbuild/protobuf";
import type { CallAdapter, CallInfo, CallProtocol } from "../../calls/call-info.js";
import { requestIdFrom } from "../../calls/request-id.js";
import { traceContextFrom } from "../../calls/trace-context.js";

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
  const { timeoutMs } = arrival;
  return {
    method: arrival.method,
    protocol: arrival.protocol,
    encoding: arrival.encoding,
    adapter: arrival.adapter,
    peer: arrival.peer,
    header: arrival.header,
    deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
    requestId: arrival.requestId ?? requestIdFrom(arrival.header("x-request-id")),
    trace: traceContextFrom(arrival.header("traceparent")),
    startedAt: performance.now(),
    values: new Map(),
  };
}

/** One value of a Node header (string, string[] or absent) as a string; lists are joined with ", ". */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
