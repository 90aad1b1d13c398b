import type * as http2 from "node:http2";
import type { DescMessage } from "@bufbuild/protobuf";
import {
  compressionNegotiate,
  createMethodSerializationLookup,
} from "@connectrpc/connect/protocol";
import { parseTimeout } from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type CallInfo, peerOf } from "../../calls/call-info.js";
import { admit, type CallPolicy } from "../../calls/call-policy.js";
import type { CallScope, MethodCore, ReplySink } from "../../calls/method-core.js";
import { asClientFault } from "../../calls/parse-fault.js";
import { toFrame } from "../../calls/reply.js";
import { FrameReader } from "../../wire/envelope.js";
import { callInfoOf, headerValue } from "../edge/call-info.js";
import type { Http2StreamTaker } from "../one-port.js";
import { GrpcCall } from "./grpc-call.js";
import { readSingleMessage } from "./request-reader.js";

/** A method the direct path serves. */
export interface DirectMethod {
  /** Its behaviour: unary, server-streaming or bidi (client streams go to connect). */
  readonly core: MethodCore;
  /**
   * A faster reader of the request than protobuf-es's reflection. When it
   * throws, protobuf-es parses the bytes instead, so a bad request is refused
   * in exactly the connect path's words.
   */
  readonly decode?: (bytes: Uint8Array) => unknown;
}

/** Options of the direct path; each must equal the connect path's for the two to answer alike. */
export interface DirectOptions {
  readonly methods: readonly DirectMethod[];
  readonly policies: readonly CallPolicy[];
  readonly shutdownSignal: AbortSignal;
  readonly readMaxBytes: number;
  readonly maxTimeoutMs: number;
}

/** What connect-node accepts as request compression; the response header is negotiated from it. */
const ACCEPT_COMPRESSION = [compressionGzip, compressionBrotli];

interface Route {
  readonly core: MethodCore;
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
 */
export function directGrpc(options: DirectOptions): Http2StreamTaker {
  const routes = new Map<string, Route>();
  for (const { core, decode } of options.methods) {
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
    routes.set(`/${core.method.parent.typeName}/${core.method.name}`, { core, schema, parse });
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
    const call = new GrpcCall(stream, {
      shutdownSignal: options.shutdownSignal,
      responseEncoding: compressionNegotiate(
        ACCEPT_COMPRESSION,
        null,
        Array.isArray(accepted) ? accepted.join(",") : (accepted ?? null),
        "grpc-accept-encoding",
      ).response?.name,
    });
    // Parsed once: the policies see the deadline, and serve() refuses a bad value.
    const timeout = parseTimeout(
      headerValue(headers["grpc-timeout"]) ?? null,
      options.maxTimeoutMs,
    );
    const held: HeldHeaders = { headers };
    const info = callInfo(stream, held, route.core, timeout.timeoutMs);
    admit(
      options.policies,
      info,
      () => {
        serve(route, call, { call: info, signal: call.signal }, timeout, options);
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
      bidi(call, route, scope, options.readMaxBytes);
      return;
    case "client_streaming":
      call.finish(
        new Error(`${core.method.name}: client streaming is not served on the direct path`),
      );
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
 * A bidi call: each chunk's requests are pushed to the core as they arrive,
 * and the answers to one chunk leave in one write; reading pauses while the
 * client is not reading or the core asks to wait.
 */
function bidi(call: GrpcCall, route: Route, scope: CallScope, readMaxBytes: number): void {
  const reader = new FrameReader(readMaxBytes);
  const stream = call.stream;
  const requests =
    route.core.kind === "bidi_streaming"
      ? route.core.start(scope, replySink(call, route.schema))
      : undefined;
  if (requests === undefined) return;
  stream.on("data", (chunk: Buffer) => {
    if (call.isFinished) return;
    const waits: Promise<void>[] = [];
    call.cork();
    try {
      for (const bytes of reader.push(chunk)) {
        const waiting = requests.request(route.parse(bytes));
        if (waiting !== undefined) waits.push(waiting);
      }
    } catch (error) {
      call.finish(error);
      return;
    }
    if (!call.uncork()) waits.push(call.drained());
    if (waits.length > 0) {
      stream.pause();
      void Promise.all(waits).then(() => stream.resume());
    }
  });
  stream.once("end", () => {
    if (call.isFinished) return;
    try {
      reader.end();
      requests.end();
    } catch (error) {
      call.finish(error);
    }
  });
  call.signal.addEventListener("abort", () => call.finish(call.signal.reason), { once: true });
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
