import { once } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";
import Negotiator from "negotiator";
import type { RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import type { HttpRoute, NodeHandlerFn } from "../fallback-router.js";
import { unwatchShutdown, watchShutdown } from "../shutdown-watch.js";
import { endFrame, eventFrame, keepAliveFrame, retryFrame } from "./sse-frames.js";

/** What the gateway asks of the room hub: a room's events, as Subscribe streams them. */
export type RoomEventSource = (
  request: { room: string; sinceSeq: number | undefined; epoch: string; author: string },
  signal: AbortSignal,
) => AsyncIterable<RoomEvent[]>;

/** Options of the SSE gateway. */
export interface SseOptions {
  /** Aborts every stream (server shutdown); its reason is sent as the `end` event. */
  shutdownSignal: AbortSignal;
  /** How long EventSource waits before reconnecting (ms). */
  retryMs?: number;
}

const PATH = /^\/rooms\/([^/]+)\/events$/;
const SEQ = /^\d{1,16}$/;
const EVENT_STREAM = "text/event-stream";

/**
 * `GET /rooms/{room}/events`: a room's events as Server-Sent Events.
 *
 * Resumes after the seq in `Last-Event-ID` (what EventSource sends when it
 * reconnects), else after `?since=N`, else starts live; `?epoch=` and
 * `?author=` mean what they mean in SubscribeRequest. Refusals before the
 * stream starts are HTTP errors with Connect's JSON error body (400 naming
 * the field or rule, 406 when the request does not accept
 * text/event-stream); a stream the server ends later (shutdown, a reader too
 * slow) gets a last `end` event, and EventSource's reconnect resumes it.
 */
export function sseRoute(source: RoomEventSource, options: SseOptions): HttpRoute {
  return {
    matches: (path) => path.startsWith("/rooms/"),
    handle: (req, res) => {
      serve(source, options, req, res).catch(() => res.destroy());
    },
  };
}

type Req = Parameters<NodeHandlerFn>[0];
type Res = Parameters<NodeHandlerFn>[1];

async function serve(source: RoomEventSource, options: SseOptions, req: Req, res: Res) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const match = PATH.exec(url.pathname);
  if (!match?.[1]) {
    return fail(res, 404, "not_found", `no such path; room events are at /rooms/{room}/events`);
  }
  if (req.method !== "GET") {
    return fail(res, 405, "unimplemented", `/rooms/{room}/events answers GET, not ${req.method}`, {
      allow: "GET",
    });
  }
  if (!new Negotiator(req).mediaType([EVENT_STREAM])) {
    return fail(
      res,
      406,
      "invalid_argument",
      `/rooms/{room}/events sends ${EVENT_STREAM}, which this request's Accept header (${req.headers.accept}) does not accept`,
    );
  }
  let room: string;
  let sinceSeq: number | undefined;
  try {
    room = decodeURIComponent(match[1]);
    sinceSeq = resumePoint(req.headers["last-event-id"], url.searchParams.get("since"));
  } catch (error) {
    const e = ConnectError.from(error, Code.InvalidArgument);
    return fail(res, 400, "invalid_argument", e.rawMessage);
  }

  // Aborted when the client goes away or the server shuts down.
  const stop = new AbortController();
  const signal = stop.signal;
  const onShutdown = (reason: unknown) => stop.abort(reason);
  watchShutdown(options.shutdownSignal, onShutdown);
  let clientGone = false;
  res.once("close", () => {
    clientGone = true;
    stop.abort(new ConnectError("the client went away", Code.Canceled));
  });
  let it: AsyncIterator<RoomEvent[]> | undefined;
  try {
    const request = {
      room,
      sinceSeq,
      epoch: url.searchParams.get("epoch") ?? "",
      author: url.searchParams.get("author") ?? "",
    };
    it = source(request, signal)[Symbol.asyncIterator]();
    // The first batch (ready) comes only once the resume point is accepted:
    // refusals can still be a plain HTTP error, which EventSource does not retry.
    let next = await it.next();
    res.writeHead(200, {
      "content-type": `${EVENT_STREAM}; charset=utf-8`,
      "cache-control": "no-cache, no-transform",
      // nginx and the like would buffer the stream otherwise.
      "x-accel-buffering": "no",
    });
    let readyId = sinceSeq;
    let out = retryFrame(options.retryMs ?? 1000);
    while (!next.done) {
      for (const event of next.value) {
        if (event.event.case === "ready") readyId ??= Number(event.event.value.lastSeq);
        if (event.event.case === "heartbeat") out += keepAliveFrame(event.event.value.lastSeq);
        else out += eventFrame(event, readyId) ?? "";
      }
      await write(res, out, signal);
      out = "";
      next = await it.next();
    }
    res.end();
  } catch (error) {
    if (clientGone) return;
    const shutdown = options.shutdownSignal;
    const e = ConnectError.from(shutdown.aborted ? shutdown.reason : error);
    if (!res.headersSent)
      return fail(res, codeToHttpStatus(e.code), codeToString(e.code), e.rawMessage);
    res.end(endFrame(codeToString(e.code), e.rawMessage));
  } finally {
    unwatchShutdown(options.shutdownSignal, onShutdown);
    await it?.return?.();
  }
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

/** Write, waiting for the socket to drain when its buffer is full (a slow reader backs up into its bounded queue). */
async function write(res: Res, chunk: string, signal: AbortSignal): Promise<void> {
  if (chunk === "" || res.write(chunk)) return;
  await once(res as NodeJS.EventEmitter, "drain", { signal });
}

function fail(res: Res, status: number, code: string, message: string, headers = {}): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(JSON.stringify({ code, message }));
}
