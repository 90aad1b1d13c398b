import type { DescMethod } from "@bufbuild/protobuf";
import { type CallEnd, endOfSignal } from "./call-end.js";
import type { CallInfo } from "./call-info.js";
import type { CoreReply } from "./reply.js";

/**
 * What a core knows of the call it serves: who and what (for policies'
 * values, such as an identity) and when to stop. No transport, no content
 * type: the adapters (connect, direct gRPC, SSE) turn bytes into requests
 * and responses into bytes.
 */
export interface CallScope {
  readonly call: CallInfo;
  /** Aborts when the client goes away, the deadline passes or the server shuts down; the reason says which. */
  readonly signal: AbortSignal;
  /**
   * The same end heard without an AbortSignal, where the adapter has one
   * (the direct gRPC path): a core that keeps a stream open uses endOf(scope).
   */
  readonly end?: CallEnd;
}

/** The scope's end as a CallEnd: its own when it has one, else its signal's. */
export function endOf(scope: CallScope): CallEnd {
  return scope.end ?? endOfSignal(scope.signal);
}

/** Where a streaming core writes its responses. */
export interface ReplySink<O> {
  /** Write one response; false when the consumer's buffer is full (wait for drained() before producing more). */
  send(response: CoreReply<O>): boolean;
  /** Resolves when the consumer can take more, or has gone. */
  drained(): Promise<void>;
  /** The stream is over: OK without an error, otherwise that error. Later calls do nothing. */
  end(error?: unknown): void;
}

/** Where a bidirectional core takes its requests, pushed in order as they arrive. */
export interface RequestSink<I> {
  /** One request. A promise asks the adapter to read no further request until it settles. */
  request(request: I): void | Promise<void>;
  /** The client closed its side of the stream. */
  end(): void;
}

/** A unary method's behaviour. */
export interface UnaryCore<I, O> {
  readonly kind: "unary";
  readonly method: DescMethod;
  run(request: I, scope: CallScope): Promise<CoreReply<O>>;
}

/** A server-streaming method's behaviour: it writes to the sink until it ends it. */
export interface ServerStreamCore<I, O> {
  readonly kind: "server_streaming";
  readonly method: DescMethod;
  /** Start streaming; a synchronous throw refuses the call before anything is written. */
  start(request: I, scope: CallScope, sink: ReplySink<O>): void;
}

/** A client-streaming method's behaviour. */
export interface ClientStreamCore<I, O> {
  readonly kind: "client_streaming";
  readonly method: DescMethod;
  run(requests: AsyncIterable<I>, scope: CallScope): Promise<CoreReply<O>>;
}

/** A bidirectional method's behaviour, in push mode both ways. */
export interface BidiCore<I, O> {
  readonly kind: "bidi_streaming";
  readonly method: DescMethod;
  start(scope: CallScope, sink: ReplySink<O>): RequestSink<I>;
}

/**
 * One method's behaviour, written once and served by every adapter. The
 * request and response types are the generated messages (or, for requests,
 * the subset of fields a core reads).
 */
export type MethodCore =
  // biome-ignore lint/suspicious/noExplicitAny: the table holds cores of every method; each adapter checks kinds, the generated descriptors carry the types.
  | UnaryCore<any, any>
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  | ServerStreamCore<any, any>
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  | ClientStreamCore<any, any>
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  | BidiCore<any, any>;
