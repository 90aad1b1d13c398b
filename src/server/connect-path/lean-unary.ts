import type * as http from "node:http";
import type * as http2 from "node:http2";
import { create, type DescMessage, type DescMethod, isMessage } from "@bufbuild/protobuf";
import { createMethodSerializationLookup, readAllBytes } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
import { callError } from "../../calls/call-error.js";
import type { CallInfo } from "../../calls/call-info.js";
import { admit } from "../../calls/call-policy.js";
import type { MethodCore, UnaryCore } from "../../calls/method-core.js";
import { asClientFault } from "../../calls/parse-fault.js";
import { Reply } from "../../calls/reply.js";
import { closeReason } from "../close-reason.js";
import type { AdapterOptions } from "../edge/adapter-options.js";
import { headerValue } from "../edge/call-info.js";
import { CallSignal } from "../edge/call-signal.js";

/** Options of the lean unary path; each must equal the connect path's for the two to answer alike. */
export interface LeanUnaryOptions extends AdapterOptions {
  /** The service's cores; the unary ones are served here. */
  readonly cores: readonly MethodCore[];
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Answers a Connect unary call itself and returns true, or returns false
 * (having touched nothing) to leave it to connect-node.
 */
export type LeanUnary = (req: NodeRequest, res: NodeResponse, call: CallInfo) => boolean;

interface Route {
  readonly core: UnaryCore<unknown, unknown>;
  readonly output: DescMessage;
  readonly serialization: ReturnType<typeof createMethodSerializationLookup>;
}

/**
 * The Connect protocol's unary calls (a page's Send, Login, History …),
 * answered straight on Node's request and response, over HTTP/1.1 and h2:
 * connect-node's generic pipeline (universal request and response objects,
 * async iterables, an interceptor chain, a context with its own signal per
 * call) costs more than the calls themselves. Like the direct gRPC path it
 * is generic, knowing methods only by their descriptors, serves the same
 * cores through the same call-policy chain, and answers byte for byte as
 * connect-node does, with connect's own codecs, limits and error encoding
 * (test/e2e/protocols/connect-unary-differential.test.ts compares the two).
 * What it does not serve goes to connect-node untouched: GET, compressed
 * bodies, content types with parameters, a connect-protocol-version other
 * than 1 and a timeout header connect would refuse.
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
    const headers = req.headers;
    const type = headers["content-type"];
    const binary =
      type === contentTypeUnaryProto ? true : type === contentTypeUnaryJson ? false : undefined;
    if (binary === undefined) return false;
    const encoding = headers["content-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    const version = headers["connect-protocol-version"];
    if (version !== undefined && version !== "1") return false;
    const timeout = parseTimeout(
      headerValue(headers["connect-timeout-ms"]) ?? null,
      options.maxTimeoutMs,
    );
    if (timeout.error !== undefined) return false;
    const exchange = new Exchange(req, res, route, binary, options);
    if (timeout.timeoutMs !== undefined) exchange.signal.setDeadline(timeout.timeoutMs);
    admit(
      options.policies,
      call,
      () => exchange.serve(call, undefined),
      // connect-node reads and decodes the request before its interceptors
      // refuse it: a body it cannot read or decode is answered before the refusal.
      (refusal) => void exchange.serve(call, refusal).catch(() => undefined),
    );
    return true;
  };
}

/** One call: its request, its response and its signal. */
class Exchange {
  readonly signal: CallSignal;
  private readonly closed: Promise<void>;
  private readonly readMaxBytes: number;

  constructor(
    private readonly req: NodeRequest,
    private readonly res: NodeResponse,
    private readonly route: Route,
    private readonly binary: boolean,
    options: LeanUnaryOptions,
  ) {
    this.signal = new CallSignal(options.shutdownSignal);
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
    const { route, binary } = this;
    let failure: ReturnType<typeof callError> | undefined;
    try {
      const bytes = await readAllBytes(
        this.req as AsyncIterable<Uint8Array>,
        this.readMaxBytes,
        headerValue(this.req.headers["content-length"]) ?? null,
      );
      let input: unknown;
      try {
        input = route.serialization.getI(binary).parse(bytes);
      } catch (error) {
        throw asClientFault(error);
      }
      if (refusal !== undefined) throw refusal;
      const output = await route.core.run(input, { call, signal: this.signal.signal });
      this.answer(200, binary ? contentTypeUnaryProto : contentTypeUnaryJson, this.encode(output));
    } catch (error) {
      failure = callError(error);
      this.answerError(failure);
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
    const { route, binary } = this;
    if (output instanceof Reply) {
      if (binary) return output.bytes();
      output = output.message();
    }
    // Cores may answer with an init object, as connect-node's handlers may.
    const message = isMessage(output, route.output)
      ? output
      : create(route.output, output as never);
    return route.serialization.getO(binary).serialize(message);
  }

  private answerError(error: ReturnType<typeof callError>): void {
    const extra: Record<string, string> = {};
    error.metadata.forEach((value, key) => {
      extra[key] = value;
    });
    this.answer(
      codeToHttpStatus(error.code),
      contentTypeUnaryJson,
      errorToJsonBytes(error, {}),
      extra,
    );
  }

  private answer(
    status: number,
    contentType: string,
    body: Uint8Array,
    extra: Record<string, string> = {},
  ): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      ...extra,
      "content-type": contentType,
      "content-length": String(body.byteLength),
    });
    res.end(body);
  }

  private closeReason() {
    return closeReason("stream" in this.res ? this.res.stream.rstCode : undefined);
  }
}
