import type { DescMethod } from "@bufbuild/protobuf";
import type { TraceContext } from "./trace-context.js";

/** The wire protocols a call can arrive on. */
export type CallProtocol = "connect" | "grpc" | "grpc-web" | "sse" | "websocket";

/**
 * Which adapter answers a call (not a URL path): connect-node's pipeline, the
 * direct gRPC adapter (src/server/grpc-direct), the SSE gateway or the
 * WebSocket endpoint (src/server/websocket).
 */
export type CallAdapter = "connect" | "direct" | "sse" | "websocket";

/**
 * What every call policy sees of a call, whatever its protocol and path.
 * Built once per call by the path that received it.
 */
export interface CallInfo {
  /** The RPC, as the generated descriptors name it (SSE streams are Subscribe). */
  readonly method: DescMethod;
  readonly protocol: CallProtocol;
  /** "proto" for binary messages, "json" for JSON ones (SSE: "json"). */
  readonly encoding: "proto" | "json";
  /** The adapter that received the call; the request log writes it as `path`. */
  readonly adapter: CallAdapter;
  /** The client's address and port as the socket sees them, e.g. "127.0.0.1:53122". */
  readonly peer: string;
  /**
   * A request header by lower-case name; undefined when absent. Read it
   * before calling `next`: a path may drop the headers once the call is
   * admitted (the direct gRPC path does, so an open stream does not keep them).
   */
  header(name: string): string | undefined;
  /** When the client's deadline passes, in ms since the epoch; undefined: none given. */
  readonly deadline: number | undefined;
  /** The client's x-request-id when it sent a usable one, else one made here; in every log line of the call. */
  readonly requestId: string;
  /** Its W3C trace context when the client sent a valid traceparent; in the request log line. */
  readonly trace: TraceContext | undefined;
  /** performance.now() when the call arrived. */
  readonly startedAt: number;
  /**
   * Values policies attach for the handler (an authenticated identity, for
   * example), keyed by a symbol each policy owns.
   */
  readonly values: Map<symbol, unknown>;
  /** The value set under `key` in `values`, or undefined; reading it makes no map. */
  value(key: symbol): unknown;
}

/** Say how a gRPC content type (application/grpc, application/grpc+json …) encodes messages. */
export function grpcEncoding(contentType: string): "proto" | "json" {
  return /^application\/grpc(-web)?\+json/i.test(contentType) ? "json" : "proto";
}

/**
 * The protocol and encoding connect-node picks for a request with this
 * content type; a Connect GET names its encoding in the query instead.
 */
export function protocolOf(
  contentType: string,
  getEncoding?: string | null,
): Pick<CallInfo, "protocol" | "encoding"> {
  const type = contentType.toLowerCase();
  if (type === "" && getEncoding != null) {
    return { protocol: "connect", encoding: getEncoding === "json" ? "json" : "proto" };
  }
  if (type.startsWith("application/grpc-web")) {
    return { protocol: "grpc-web", encoding: grpcEncoding(type) };
  }
  if (type.startsWith("application/grpc"))
    return { protocol: "grpc", encoding: grpcEncoding(type) };
  return { protocol: "connect", encoding: /json/.test(type) ? "json" : "proto" };
}

/** The peer of a socket as "address:port" (IPv6 in brackets), or "unknown". */
export function peerOf(
  socket: { remoteAddress?: string; remotePort?: number } | undefined,
): string {
  const address = socket?.remoteAddress;
  if (address === undefined) return "unknown";
  const host = address.includes(":") ? `[${address}]` : address;
  return `${host}:${socket?.remotePort ?? 0}`;
}
