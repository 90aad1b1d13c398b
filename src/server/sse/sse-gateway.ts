import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";
import Negotiator from "negotiator";
import { ChatService, type SubscribeResponse } from "../../../gen/chat/v1/chat_pb.js";
import { callError } from "../../calls/call-error.js";
import { type CallInfo, peerOf } from "../../calls/call-info.js";
import { admit, type CallPolicy } from "../../calls/call-policy.js";
import type { ServerStreamCore } from "../../calls/method-core.js";
import { toMessage } from "../../calls/reply.js";
import { responseIds } from "../../calls/response-ids.js";
import type { SubscribeFields } from "../../chat/subscribe.js";
import { callInfoOf, headerValue } from "../edge/call-info.js";
import { CallSignal } from "../edge/call-signal.js";
import type { HttpRoute, NodeHandlerFn } from "../fallback-router.js";
import { endFrame, eventFrame, keepAliveFrame, retryFrame } from "./sse-frames.js";

/** Options of the SSE gateway. */
export interface SseOptions {
  /** Aborts every stream (server shutdown); its reason is sent as the `end` event. */
  shutdownSignal: AbortSignal;
  /** The call-policy chain every stream passes, as every RPC does. */
  policies: readonly CallPolicy[];
  /** How long EventSource waits before reconnecting (ms). */
  retryMs?: number;
}

const PATH = /^\/rooms\/([^/]+)\/events$/;
const SEQ = /^\d{1,16}$/;
const EVENT_STREAM = "text/event-stream";

/**
 * `GET /rooms/{room}/events`: a room's events as Server-Sent Events, served
 * by the Subscribe method's core through the call-policy chain.
 *
 * Resumes after the seq in `Last-Event-ID` (what EventSource sends when it
 * reconnects), else after `?since=N`, else starts live; `?epoch=` and
 * `?author=` mean what they mean in SubscribeRequest. Refusals before the
 * stream starts are HTTP errors with Connect's JSON error body (400 naming
 * the field or rule, 406 when the request does not accept
 * text/event-stream); a stream the server ends later (shutdown, a reader too
 * slow) gets a last `end` event, and EventSource's reconnect resumes it.
 */
export function sseRoute(
  subscribe: ServerStreamCore<SubscribeFields, SubscribeResponse>,
  options: SseOptions,
): HttpRoute {
  return {
    matches: (path) => path.startsWith("/rooms/"),
    handle: (req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const match = PATH.exec(url.pathname);
      if (!match?.[1]) {
        return fail(res, 404, "not_found", "no such path; room events are at /rooms/{room}/events");
      }
      if (!acceptable(req, res, "/rooms/{room}/events")) return;
      const call = callInfo(req, url, ChatService.method.subscribe);
      nameResponse(res, call);
      admit(
        options.policies,
        call,
        () => subscribeStream(subscribe, options, call, match[1] as string, url, req, res),
        (refusal) => failWith(res, callError(refusal)),
      );
    },
  };
}

/** The request and response of a fallback route. */
export type Req = Parameters<NodeHandlerFn>[0];
export type Res = Parameters<NodeHandlerFn>[1];

/** Serve one Subscribe stream; settles when it is over (rejected with the error it ended with). */
function subscribeStream(
  subscribe: ServerStreamCore<SubscribeFields, SubscribeResponse>,
  options: SseOptions,
  call: CallInfo,
  roomPart: string,
  url: URL,
  req: Req,
  res: Res,
): Promise<void> {
  let request: SubscribeFields;
  let sinceSeq: number | undefined;
  try {
    sinceSeq = resumePoint(req.headers["last-event-id"], url.searchParams.get("since"));
    request = {
      room: decodeURIComponent(roomPart),
      sinceSeq: sinceSeq === undefined ? undefined : BigInt(sinceSeq),
      epoch: url.searchParams.get("epoch") ?? "",
      author: url.searchParams.get("author") ?? "",
    };
  } catch (error) {
    const e = ConnectError.from(error, Code.InvalidArgument);
    failWith(res, e);
    return Promise.reject(e);
  }
  let readyId = sinceSeq;
  return serveStream(subscribe, request, options, call, res, (response) => {
    let out = "";
    for (const event of response.events) {
      if (event.event.case === "ready") readyId ??= Number(event.event.value.lastSeq);
      if (event.event.case === "heartbeat") out += keepAliveFrame(event.event.value.lastSeq);
      else out += eventFrame(event, readyId) ?? "";
    }
    return out;
  });
}

/**
 * Serve one server-streaming core as SSE: each response becomes the frames
 * `frames` writes. Settles when the stream is over (rejected with the error
 * it ended with).
 */
export function serveStream<I, O>(
  core: ServerStreamCore<I, O>,
  request: I,
  options: SseOptions,
  call: CallInfo,
  res: Res,
  frames: (response: O) => string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Aborted when the client goes away or the server shuts down.
    const stop = new CallSignal(options.shutdownSignal);
    res.once("close", () => stop.clientGone());
    let ended = false;
    const end = (reason?: unknown) => {
      if (ended) return;
      ended = true;
      stop.release();
      const error = reason === undefined ? undefined : callError(reason);
      if (!res.destroyed && !res.writableEnded) {
        if (error === undefined) res.end();
        else if (!res.headersSent) failWith(res, error);
        else res.end(endFrame(codeToString(error.code), error.rawMessage));
      }
      if (error === undefined) resolve();
      else reject(error);
    };
    try {
      core.start(
        request,
        { call, signal: stop.signal },
        {
          send(response) {
            if (ended || res.destroyed) return true;
            let out = "";
            // The first response (ready) comes only once the resume point is
            // accepted: refusals before it can still be a plain HTTP error,
            // which EventSource does not retry.
            if (!res.headersSent) {
              res.writeHead(200, {
                "content-type": `${EVENT_STREAM}; charset=utf-8`,
                "cache-control": "no-cache, no-transform",
                // nginx and the like would buffer the stream otherwise.
                "x-accel-buffering": "no",
              });
              out = retryFrame(options.retryMs ?? 1000);
            }
            out += frames(toMessage(response));
            return out === "" || res.write(out);
          },
          drained() {
            if (ended || res.destroyed || !res.writableNeedDrain) return Promise.resolve();
            return new Promise((done) => {
              const settle = () => {
                res.off("drain", settle);
                res.off("close", settle);
                done();
              };
              res.once("drain", settle);
              res.once("close", settle);
            });
          },
          end,
        },
      );
    } catch (error) {
      end(error);
    }
  });
}

/**
 * Answer 405 unless GET, 406 unless the request accepts text/event-stream;
 * true when the request may go on. `path` names the endpoint in the refusal.
 */
export function acceptable(req: Req, res: Res, path: string): boolean {
  if (req.method !== "GET") {
    fail(res, 405, "unimplemented", `${path} answers GET, not ${req.method}`, { allow: "GET" });
    return false;
  }
  if (!new Negotiator(req).mediaType([EVENT_STREAM])) {
    fail(
      res,
      406,
      "invalid_argument",
      `${path} sends ${EVENT_STREAM}, which this request's Accept header (${req.headers.accept}) does not accept`,
    );
    return false;
  }
  return true;
}

/** Answer with the headers that name the call (responseIds), whatever the answer turns out to be. */
export function nameResponse(res: Res, call: CallInfo): void {
  for (const [name, value] of Object.entries(responseIds(call))) res.setHeader(name, value);
}

/** The call of an SSE request for `method`, with `?token=` as its bearer token. */
export function callInfo(req: Req, url: URL, method: DescMethod): CallInfo {
  // EventSource cannot set headers, so a token may come as ?token= instead
  // (the request log never writes URLs, so it stays out of the logs).
  const queryToken = url.searchParams.get("token");
  const header = (name: string) => {
    const value = req.headers[name];
    if (value === undefined && name === "authorization" && queryToken !== null) {
      return `Bearer ${queryToken}`;
    }
    return headerValue(value);
  };
  return callInfoOf({
    method,
    protocol: "sse",
    encoding: "json",
    adapter: "sse",
    peer: peerOf(req.socket),
    header,
    timeoutMs: undefined,
  });
}

/** Last-Event-ID wins: EventSource reconnects to the same URL, ?since and all. */
function resumePoint(lastEventId: string | string[] | undefined, since: string | null) {
  const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  if (header !== undefined && header !== "") return seq("Last-Event-ID", header);
  if (since !== null) return seq("since", since);
  return undefined;
}

function seq(field: string, value: string): number {
  const n = Number(value);
  if (!SEQ.test(value) || !Number.isSafeInteger(n)) {
    throw new ConnectError(
      `${field}: must be a seq, a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (got ${JSON.stringify(value.slice(0, 40))})`,
      Code.InvalidArgument,
    );
  }
  return n;
}

/** A refusal before the stream started, as an HTTP error with Connect's JSON error body. */
export function failWith(res: Res, error: ConnectError): void {
  if (res.headersSent || res.destroyed) return;
  fail(res, codeToHttpStatus(error.code), codeToString(error.code), error.rawMessage);
}

/** An HTTP error with Connect's JSON error body. */
export function fail(res: Res, status: number, code: string, message: string, headers = {}): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(JSON.stringify({ code, message }));
}
