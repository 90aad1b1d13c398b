import type * as http from "node:http";
import type * as http2 from "node:http2";
import { create, type DescMessage, type DescMethod, isMessage } from "@bufbuild/protobuf";
import { createMethodSerializationLookup } from "@connectrpc/connect/protocol";
import { callError } from "../../calls/call-error.js";
import type { CallInfo, CallProtocol } from "../../calls/call-info.js";
import { admit } from "../../calls/call-policy.js";
import type { MethodCore, UnaryCore } from "../../calls/method-core.js";
import { asClientFault } from "../../calls/parse-fault.js";
import { Reply } from "../../calls/reply.js";
import { closeReason } from "../close-reason.js";
import type { AdapterOptions } from "../edge/adapter-options.js";
import { CallSignal } from "../edge/call-signal.js";
import { LazyScope } from "../edge/lazy-scope.js";
import { connectUnaryWire } from "./connect-unary-wire.js";
import { grpcWebUnaryWire } from "./grpc-web-unary-wire.js";
import type { UnaryAnswer, UnaryRequest, UnaryWire } from "./unary-wire.js";

/** Options of the lean unary path; each must equal the connect path's for the two to answer alike. */
export interface LeanUnaryOptions extends AdapterOptions {
  /** The service's cores; the unary ones are served here. */
  readonly cores: readonly MethodCore[];
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Answers a unary call itself and returns true, or returns false (having
 * touched nothing) to leave it to connect-node.
 */
export type LeanUnary = (req: NodeRequest, res: NodeResponse, call: CallInfo) => boolean;

interface Route {
  readonly core: UnaryCore<unknown, unknown>;
  readonly output: DescMessage;
  readonly serialization: ReturnType<typeof createMethodSerializationLookup>;
}

/**
 * Unary calls of the Connect protocol (a page's Send, Login, History …,
 * JSON or binary) and of gRPC-Web, answered straight on Node's request and
 * response, over HTTP/1.1 and h2: connect-node's generic pipeline
 * (universal request and response objects, async iterables, an interceptor
 * chain, a context with its own signal per call) costs more than the calls
 * themselves. Like the direct gRPC path it is generic, knowing methods only
 * by their descriptors, serves the same cores through the same call-policy
 * chain, and answers byte for byte as connect-node does, with connect's own
 * codecs, limits and error encodings (each protocol's UnaryWire;
 * test/e2e/protocols/unary-differential.test.ts compares the two). What a
 * wire does not serve goes to connect-node untouched: GET, compressed
 * bodies, content types with parameters, gRPC-Web's text variant, a
 * connect-protocol-version other than 1 and a timeout connect would refuse.
 */
export function leanUnary(options: LeanUnaryOptions): LeanUnary {
  const routes = new Map<DescMethod, Route>();
  for (const core of options.cores) {
    if (core.kind !== "unary") continue;
    routes.set(core.method, {
      core: core as UnaryCore<unknown, unknown>,
      output: core.method.output,
      serialization: createMethodSerializationLookup(core.method, undefined, undefined, {
        readMaxBytes: options.readMaxBytes,
        writeMaxBytes: Number.MAX_SAFE_INTEGER,
      }),
    });
  }
  return (req, res, call) => {
    const route = routes.get(call.method);
    if (route === undefined || req.method !== "POST") return false;
    const wire = WIRES[call.protocol];
    const request = wire?.accepts(req.headers, options.maxTimeoutMs);
    if (wire === undefined || request === undefined) return false;
    const exchange = new Exchange(req, res, route, wire, request, options);
    admit(
      options.policies,
      call,
      () => exchange.serve(call, undefined),
      // connect-node reads and decodes the request before its interceptors
      // refuse it: a body it cannot read or decode is answered before the
      // refusal, and the chain hears which one the client was told.
      (refusal) => exchange.serve(call, refusal),
    );
    return true;
  };
}

/** The wire of each protocol this path serves. */
const WIRES: Partial<Record<CallProtocol, UnaryWire>> = {
  connect: connectUnaryWire,
  "grpc-web": grpcWebUnaryWire,
};

/** One call: its request, its response and its signal. */
class Exchange {
  private readonly signal: CallSignal;
  private readonly closed: Promise<void>;
  private readonly readMaxBytes: number;

  constructor(
    private readonly req: NodeRequest,
    private readonly res: NodeResponse,
    private readonly route: Route,
    private readonly wire: UnaryWire,
    private readonly request: UnaryRequest,
    options: LeanUnaryOptions,
  ) {
    this.signal = new CallSignal(options.shutdownSignal);
    if (request.timeoutMs !== undefined) this.signal.setDeadline(request.timeoutMs);
    this.readMaxBytes = options.readMaxBytes;
    this.closed = new Promise((resolve) => {
      res.once("close", () => {
        if (!res.writableEnded) this.signal.clientGone(this.closeReason());
        resolve();
      });
    });
  }

  /**
   * Read, decode, run the core (or, with `refusal`, answer that instead) and
   * answer. Settles once the response is over: resolved for OK, rejected with
   * the error the client was told, as the call-policy chain expects.
   */
  async serve(call: CallInfo, refusal: unknown): Promise<void> {
    const { route, wire, request } = this;
    let failure: ReturnType<typeof callError> | undefined;
    try {
      const bytes = await wire.read(
        this.req as AsyncIterable<Uint8Array>,
        this.req.headers,
        this.readMaxBytes,
      );
      let input: unknown;
      try {
        input = route.serialization.getI(request.binary).parse(bytes);
      } catch (error) {
        throw asClientFault(error);
      }
      if (refusal !== undefined) throw refusal;
      const output = await route.core.run(input, new LazyScope(call, this.signal));
      this.answer(wire.ok(request, this.encode(output)));
    } catch (error) {
      failure = callError(error);
      this.answer(wire.error(request, failure));
    } finally {
      this.signal.abort(new Error("the call is over"));
      this.signal.release();
    }
    await this.closed;
    // The client went away before the whole response was written.
    if (!this.res.writableEnded) throw this.closeReason();
    if (failure !== undefined) throw failure;
  }

  private encode(output: unknown): Uint8Array {
    const { route, request } = this;
    if (output instanceof Reply) {
      if (request.binary) return output.bytes();
      output = output.message();
    }
    // Cores may answer with an init object, as connect-node's handlers may.
    const message = isMessage(output, route.output)
      ? output
      : create(route.output, output as never);
    return route.serialization.getO(request.binary).serialize(message);
  }

  private answer(answer: UnaryAnswer): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    if (answer.sized) {
      res.writeHead(answer.status, {
        ...answer.headers,
        "content-length": String(answer.body.byteLength),
      });
      res.end(answer.body);
    } else {
      // Written, then ended: no length, as connect-node streams it (chunked on HTTP/1.1).
      res.writeHead(answer.status, answer.headers);
      (res as http.ServerResponse).write(answer.body);
      res.end();
    }
  }

  private closeReason() {
    return closeReason("stream" in this.res ? this.res.stream.rstCode : undefined);
  }
}
