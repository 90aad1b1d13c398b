import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import { type ConnectRouter, createConnectRouter, createContextValues } from "@connectrpc/connect";
import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { callError } from "../../calls/call-error.js";
import { type CallInfo, peerOf, protocolOf } from "../../calls/call-info.js";
import { admit, type CallPolicy } from "../../calls/call-policy.js";
import { responseIds } from "../../calls/response-ids.js";
import { closeReason } from "../close-reason.js";
import { callInfoOf, headerValue } from "../edge/call-info.js";
import type { NodeHandlerFn } from "../fallback-router.js";
import type { RequestHandler } from "../one-port.js";
import { watchOutcome } from "./call-outcome.js";
import { callInfoKey } from "./call-scope.js";
import { failureKey } from "./core-service.js";
import type { LeanUnary } from "./lean-unary.js";
import { parseFaultAnswer } from "./parse-fault-answer.js";
import { explainBareResponse, unknownRpc } from "./plain-answers.js";
import { refusalKey, refuseRefusedCalls } from "./refusal.js";

/** Options of the connect path. */
export interface ConnectEdgeOptions {
  /** Mounts every RPC (connectNodeAdapter's `routes`). */
  routes: (router: ConnectRouter) => void;
  /** Requests no RPC matches. */
  fallback: NodeHandlerFn;
  /** The call-policy chain every RPC passes. */
  policies: readonly CallPolicy[];
  /** The largest request message, in bytes. */
  readMaxBytes: number;
  /** The longest deadline a client may ask for; longer is INVALID_ARGUMENT. */
  maxTimeoutMs: number;
  /** Connect unary calls it answers itself (lean-unary.ts); the rest go to connect-node. */
  lean?: LeanUnary | undefined;
}

/**
 * The connect path: connect-node's router and protocol handlers, with each
 * call first passed through the call-policy chain (what connectNodeAdapter
 * does, plus the chain). A refused call is still answered by connect-node,
 * so the refusal reaches the client in its own protocol and encoding.
 */
export function connectEdge(options: ConnectEdgeOptions): RequestHandler {
  const router = createConnectRouter({
    readMaxBytes: options.readMaxBytes,
    maxTimeoutMs: options.maxTimeoutMs,
    acceptCompression: [compressionGzip, compressionBrotli],
    // Responses are never compressed (compressed requests are still
    // accepted): a batch of room events is encoded once for every subscriber,
    // and gzip per subscriber would redo that work n times over, on the hot
    // path. It also keeps each subscriber's queue bound honest: a batch's
    // bytes are the bytes that wait on the connection.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    interceptors: [refuseRefusedCalls],
  });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const services = [...new Set(router.handlers.map((h) => h.service))];
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const handler = handlers.get(path);
    if (handler === undefined) {
      const unknown = unknownRpc(path, req.method ?? "", contentTypeOf(req), services);
      if (unknown === undefined) options.fallback(req, res);
      else res.writeHead(unknown.status, unknown.header).end(unknown.body);
      return;
    }
    const call = callInfo(req, handler.method);
    // Merged into whatever head connect-node writes, an error's included.
    for (const [name, value] of Object.entries(responseIds(call))) res.setHeader(name, value);
    if (options.lean?.(req, res, call) === true) return;
    const unary = handler.method.methodKind === "unary";
    const singleRequest = unary || handler.method.methodKind === "server_streaming";
    const failure: { error?: unknown } = {};
    const values = createContextValues().set(callInfoKey, call).set(failureKey, failure);
    const serve = async () => {
      // Over when the response is, however it ends (connect-node's writer
      // waits for an 'end' event Node's responses do not emit).
      const closed = new Promise((resolve) => res.once("close", resolve));
      let uRes: Awaited<ReturnType<typeof handler>>;
      try {
        uRes = explainBareResponse(
          await handler(universalRequestFromNodeRequest(req, res, undefined, values)),
          handler.method,
          { method: req.method ?? "", contentType: contentTypeOf(req) },
        );
        // A request message connect could not decode is the client's fault.
        if (singleRequest && call.encoding === "proto")
          uRes = await parseFaultAnswer(call.protocol, unary, uRes);
      } catch (error) {
        // connect-node answers every failure of a call itself; this is one of its own (a request it cannot read).
        if (!res.headersSent) res.writeHead(500).end();
        throw callError(error);
      }
      const watched = watchOutcome(call.protocol, unary, uRes);
      let writeError: unknown;
      universalResponseToNodeResponse(watched.response, res).catch((error: unknown) => {
        writeError = error;
      });
      await closed;
      if (failure.error !== undefined) throw failure.error;
      // The client went away before the whole response was written.
      if (!res.writableEnded) throw closeReason("stream" in res ? res.stream.rstCode : undefined);
      if (writeError !== undefined) throw writeError;
      watched.outcome();
    };
    admit(options.policies, call, serve, (refusal) => {
      values.set(refusalKey, callError(refusal));
      serve().catch(() => undefined);
    });
  };
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;

function contentTypeOf(req: NodeRequest): string {
  const value = req.headers["content-type"];
  return Array.isArray(value) ? value.join(", ") : (value ?? "");
}

function callInfo(req: NodeRequest, method: DescMethod): CallInfo {
  const headers = req.headers;
  const header = (name: string) => headerValue(headers[name]);
  const getEncoding =
    req.method === "GET" ? new URL(req.url ?? "/", "http://x").searchParams.get("encoding") : null;
  return callInfoOf({
    method,
    ...protocolOf(header("content-type") ?? "", getEncoding),
    adapter: "connect",
    peer: peerOf(req.socket),
    header,
    timeoutMs: timeoutOf(header("grpc-timeout"), header("connect-timeout-ms")),
  });
}

/** The client's timeout, for policies; a malformed value is the protocol handler's to refuse. */
function timeoutOf(
  grpcTimeout: string | undefined,
  connectTimeoutMs: string | undefined,
): number | undefined {
  const { timeoutMs } =
    grpcTimeout !== undefined
      ? parseGrpcTimeout(grpcTimeout, Number.MAX_SAFE_INTEGER)
      : parseConnectTimeout(connectTimeoutMs ?? null, Number.MAX_SAFE_INTEGER);
  return timeoutMs;
}
