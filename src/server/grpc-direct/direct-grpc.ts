import type * as http2 from "node:http2";
import type { DescMessage } from "@bufbuild/protobuf";
import {
  compressionNegotiate,
  createMethodSerializationLookup,
} from "@connectrpc/connect/protocol";
import { parseTimeout } from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type CallInfo, peerOf } from "../../calls/call-info.js";
import { admit } from "../../calls/call-policy.js";
import type {
  BidiCore,
  CallScope,
  MethodCore,
  ReplySink,
  RequestSink,
} from "../../calls/method-core.js";
import { asClientFault } from "../../calls/parse-fault.js";
import { toFrame } from "../../calls/reply.js";
import { responseIds } from "../../calls/response-ids.js";
import { FrameReader } from "../../wire/envelope.js";
import type { AdapterOptions } from "../edge/adapter-options.js";
import { callInfoOf, headerValue } from "../edge/call-info.js";
import { LazyScope } from "../edge/lazy-scope.js";
import type { Http2StreamTaker } from "../one-port.js";
import { GrpcCall } from "./grpc-call.js";
import { readSingleMessage } from "./request-reader.js";

/** A method the direct path serves. */
export interface DirectMethod {
  /**
   * Its behaviour: unary, server-streaming or bidi. directGrpc() refuses a
   * client-streaming core when it builds its table: those go to connect.
   */
  readonly core: MethodCore;
  /**
   * A faster reader of the request than protobuf-es's reflection. When it
   * throws, protobuf-es parses the bytes instead, so a bad request is refused
   * in exactly the connect path's words.
   */
  readonly decode?: (bytes: Uint8Array) => unknown;
}

/** Options of the direct path; each must equal the connect path's for the two to answer alike. */
export interface DirectOptions extends AdapterOptions {
  readonly methods: readonly DirectMethod[];
}

/** What connect-node accepts as request compression; the response header is negotiated from it. */
const ACCEPT_COMPRESSION = [compressionGzip, compressionBrotli];

/** The kinds of core the direct path serves. */
type DirectCore = Exclude<MethodCore, { kind: "client_streaming" }>;

interface Route {
  readonly core: DirectCore;
  readonly schema: DescMessage;
  readonly parse: (bytes: Uint8Array) => unknown;
}

/**
 * The gRPC calls that carry a chat service's load, answered straight on the
 * HTTP/2 stream: binary messages, no request compression. connect-node's
 * generic pipeline (an AbortSignal, header objects, several async-iterable
 * stages and promises per call and per message) costs several times what
 * these calls do themselves; see bench/RESULTS.md. This adapter is generic:
 * it knows methods only by their descriptors and serves the same method
 * cores as the connect path, through the same call-policy chain, and answers
 * as connect-node does (test/e2e/protocols/grpc-differential.test.ts compares the
 * two). Every other request (other methods, JSON, compressed requests,
 * content types with parameters, Connect, gRPC-Web, HTTP/1.1) is declined
 * here and goes to connect.
 *
 * Throws, before any call, for a method it cannot serve (a client-streaming
 * core) or one given twice, naming the method.
 */
export function directGrpc(options: DirectOptions): Http2StreamTaker {
  const routes = new Map<string, Route>();
  for (const { core, decode } of options.methods) {
    const path = `/${core.method.parent.typeName}/${core.method.name}`;
    if (core.kind === "client_streaming") {
      throw new Error(
        `direct gRPC path: ${core.method.parent.typeName}.${core.method.name} is client streaming, which this path does not serve; leave it to the connect path`,
      );
    }
    if (routes.has(path)) {
      throw new Error(
        `direct gRPC path: ${core.method.parent.typeName}.${core.method.name} is given twice`,
      );
    }
    const schema = core.method.output as DescMessage;
    const parser = createMethodSerializationLookup(core.method, undefined, undefined, {
      readMaxBytes: options.readMaxBytes,
      writeMaxBytes: Number.MAX_SAFE_INTEGER,
    }).getI(true);
    // Bytes that do not decode are the client's fault: INVALID_ARGUMENT, as on the connect path.
    const strict = (bytes: Uint8Array) => {
      try {
        return parser.parse(bytes);
      } catch (error) {
        throw asClientFault(error);
      }
    };
    const parse =
      decode === undefined
        ? strict
        : (bytes: Uint8Array) => {
            try {
              return decode(bytes);
            } catch {
              return strict(bytes);
            }
          };
    routes.set(path, { core, schema, parse });
  }
  return (stream, headers) => {
    const route = routes.get(headers[":path"] ?? "");
    if (route === undefined || headers[":method"] !== "POST") return false;
    const contentType = headers["content-type"];
    if (contentType !== "application/grpc" && contentType !== "application/grpc+proto")
      return false;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    const accepted = headers["grpc-accept-encoding"];
    // Parsed once: the policies see the deadline, and serve() refuses a bad value.
    const timeout = parseTimeout(
      headerValue(headers["grpc-timeout"]) ?? null,
      options.maxTimeoutMs,
    );
    const held: HeldHeaders = { headers };
    const info = callInfo(stream, held, route.core, timeout.timeoutMs);
    const call = new GrpcCall(stream, {
      shutdownSignal: options.shutdownSignal,
      responseEncoding: compressionNegotiate(
        ACCEPT_COMPRESSION,
        null,
        Array.isArray(accepted) ? accepted.join(",") : (accepted ?? null),
        "grpc-accept-encoding",
      ).response?.name,
      ids: responseIds(info),
    });
    admit(
      options.policies,
      info,
      () => {
        serve(route, call, new LazyScope(info, call), timeout, options);
        held.headers = undefined;
        return call.done;
      },
      (refusal) => call.finish(refusal),
    );
    return true;
  };
}

function serve(
  route: Route,
  call: GrpcCall,
  scope: CallScope,
  timeout: ReturnType<typeof parseTimeout>,
  options: DirectOptions,
): void {
  if (timeout.error !== undefined) {
    call.finish(timeout.error);
    return;
  }
  if (timeout.timeoutMs !== undefined) call.setDeadline(timeout.timeoutMs);
  const { core, schema, parse } = route;
  switch (core.kind) {
    case "unary":
      readSingleMessage(call, "unary", options.readMaxBytes)
        .then((bytes) => core.run(parse(bytes), scope))
        .then(
          (response) => {
            call.send(toFrame(schema, response));
            call.finish();
          },
          (error: unknown) => call.finish(error),
        );
      return;
    case "server_streaming":
      readSingleMessage(call, "server_streaming", options.readMaxBytes)
        .then((bytes) => core.start(parse(bytes), scope, replySink(call, schema)))
        .catch((error: unknown) => call.finish(error));
      return;
    case "bidi_streaming":
      new BidiReader(call, core, route.parse, scope, options.readMaxBytes);
      return;
  }
}

function replySink(call: GrpcCall, schema: DescMessage): ReplySink<unknown> {
  return new FrameSink(call, schema);
}

/**
 * A streaming core's replies, framed onto the call. A class, not an object
 * of closures: it lives as long as the stream, and methods on the prototype
 * cost an idle stream nothing (bench/stream-heap.ts).
 */
class FrameSink implements ReplySink<unknown> {
  constructor(
    private readonly call: GrpcCall,
    private readonly schema: DescMessage,
  ) {}

  send(response: unknown): boolean {
    return this.call.send(toFrame(this.schema, response as never));
  }

  drained(): Promise<void> {
    return this.call.drained();
  }

  end(error?: unknown): void {
    this.call.finish(error);
  }
}

/**
 * A bidi call's request side. Requests reach the core one at a time in
 * arrival order, and when the core returns a promise (it asks to wait: a
 * post being stored, a client not reading answers) the next request is not
 * handed over until it settles, even within one chunk of frames; reading
 * pauses meanwhile, so backpressure reaches the client. The answers to one
 * run of requests leave in one write.
 */
class BidiReader {
  private readonly reader: FrameReader;
  private readonly requests: RequestSink<unknown>;
  /** Frames read but not yet handed over, from `next` on. */
  private pending: Buffer[] = [];
  private next = 0;
  /** A promise of the core (or a full write buffer) is being waited on. */
  private waiting = false;
  /** The client closed its side; the core is told once every request is handed over. */
  private halfClosed = false;
  private endGiven = false;

  constructor(
    private readonly call: GrpcCall,
    core: BidiCore<unknown, unknown>,
    private readonly parse: (bytes: Uint8Array) => unknown,
    scope: CallScope,
    readMaxBytes: number,
  ) {
    this.reader = new FrameReader(readMaxBytes);
    this.requests = core.start(scope, replySink(call, core.method.output as DescMessage));
    const stream = call.stream;
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    // 'end' can come while reading is paused (the last chunk is being handed over).
    stream.once("end", () => {
      this.halfClosed = true;
      if (!this.waiting) this.handOver();
    });
    call.signal.addEventListener("abort", () => call.finish(call.signal.reason), { once: true });
  }

  private onData(chunk: Buffer): void {
    if (this.call.isFinished) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.call.finish(error);
      return;
    }
    if (this.next < this.pending.length) {
      this.pending = this.pending.concat(frames);
    } else {
      this.pending = frames;
      this.next = 0;
    }
    if (!this.waiting) this.handOver();
  }

  /** Hand over pending requests until the core asks to wait, then end them if the client has. */
  private handOver(): void {
    const call = this.call;
    if (call.isFinished) return;
    let wait: Promise<void> | undefined;
    call.cork();
    try {
      while (wait === undefined && this.next < this.pending.length) {
        const bytes = this.pending[this.next++] as Buffer;
        wait = this.requests.request(this.parse(bytes)) ?? undefined;
      }
    } catch (error) {
      call.finish(error);
      return;
    }
    if (this.next >= this.pending.length) {
      this.pending = [];
      this.next = 0;
    }
    if (!call.uncork()) {
      const drained = call.drained();
      wait = wait === undefined ? drained : Promise.all([wait, drained]).then(() => undefined);
    }
    if (wait !== undefined) {
      this.waiting = true;
      call.stream.pause();
      wait.then(
        () => {
          this.waiting = false;
          this.handOver();
        },
        (error: unknown) => call.finish(error),
      );
      return;
    }
    if (this.halfClosed) this.endRequests();
    else call.stream.resume();
  }

  private endRequests(): void {
    if (this.endGiven) return;
    this.endGiven = true;
    try {
      this.reader.end();
      this.requests.end();
    } catch (error) {
      this.call.finish(error);
    }
  }
}

/**
 * A call's request headers, held while the policies decide and the call
 * starts, then dropped: an open stream would otherwise keep the whole
 * header object (a dictionary) and its strings, about 0.5 KiB per idle
 * Subscribe stream (bench/stream-heap.ts). CallInfo.header answers undefined
 * from then on.
 */
interface HeldHeaders {
  headers: http2.IncomingHttpHeaders | undefined;
}

function callInfo(
  stream: http2.ServerHttp2Stream,
  held: HeldHeaders,
  core: MethodCore,
  timeoutMs: number | undefined,
): CallInfo {
  return callInfoOf({
    method: core.method,
    protocol: "grpc",
    encoding: "proto",
    adapter: "direct",
    peer: peerOf(stream.session?.socket),
    header: (name) => headerValue(held.headers?.[name]),
    timeoutMs,
  });
}
