import type * as http from "node:http";
import type { ConnectError } from "@connectrpc/connect";

/** A unary call's request as a wire takes it, read from its headers. */
export interface UnaryRequest {
  /** Binary messages (true) or JSON. */
  readonly binary: boolean;
  /** The client's deadline, already parsed; undefined: none. */
  readonly timeoutMs: number | undefined;
  /** Response headers this request calls for, on every answer (gRPC-Web's grpc-encoding). */
  readonly headers: Record<string, string>;
}

/** What a wire answers: a status, headers and the whole body. */
export interface UnaryAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  /** Whether the answer names its length (Connect) or streams (gRPC-Web: chunked on HTTP/1.1). */
  readonly sized: boolean;
}

/**
 * How one protocol carries a unary call, in connect-node's exact terms:
 * which requests it serves as they are, how the request message is read
 * from the body, and how an answer or an error is written.
 */
export interface UnaryWire {
  /** The request, when this wire serves it; undefined leaves it to connect-node, untouched. */
  accepts(headers: http.IncomingHttpHeaders, maxTimeoutMs: number): UnaryRequest | undefined;
  /** The request message's bytes, from the body (connect's limits and errors). */
  read(
    body: AsyncIterable<Uint8Array>,
    headers: http.IncomingHttpHeaders,
    readMaxBytes: number,
  ): Promise<Uint8Array>;
  ok(request: UnaryRequest, message: Uint8Array): UnaryAnswer;
  error(request: UnaryRequest, error: ConnectError): UnaryAnswer;
}
