import { toJson } from "@bufbuild/protobuf";
import {
  ChatService,
  type FeedEvent,
  FeedEventSchema,
  type FeedResponse,
} from "../../../gen/chat/v1/chat_pb.js";
import { callError } from "../../calls/call-error.js";
import { admit } from "../../calls/call-policy.js";
import type { ServerStreamCore } from "../../calls/method-core.js";
import type { FeedFields } from "../../chat/feed.js";
import type { HttpRoute } from "../fallback-router.js";
import {
  acceptable,
  callInfo,
  failWith,
  nameResponse,
  type SseOptions,
  serveStream,
} from "./sse-gateway.js";

/** Where the feed's SSE twin is served. */
export const FEED_EVENTS_PATH = "/feed/events";

/**
 * `GET /feed/events`: the caller's Feed as Server-Sent Events, served by the
 * Feed method's core through the call-policy chain (the token as
 * `?token=`, since EventSource sets no headers).
 *
 * Each event is a frame (`event:` ready, message, joined, left or read;
 * `data:` its proto JSON); the last frame of each Feed response carries the
 * response's cursor as its `id:`, so EventSource's reconnect sends it back
 * as `Last-Event-ID` and the feed resumes with no gap or duplicate.
 * `?cursor=` does the same for a first connection; `Last-Event-ID` wins.
 * Heartbeats are `: keep-alive` comments. Refusals before the stream are
 * HTTP errors with Connect's JSON error body, as on /rooms/{room}/events.
 */
export function sseFeedRoute(
  feed: ServerStreamCore<FeedFields, FeedResponse>,
  options: SseOptions,
): HttpRoute {
  return {
    matches: (path) => path === FEED_EVENTS_PATH,
    handle: (req, res) => {
      if (!acceptable(req, res, FEED_EVENTS_PATH)) return;
      const url = new URL(req.url ?? "/", "http://localhost");
      const header = req.headers["last-event-id"];
      const lastEventId = Array.isArray(header) ? header[0] : header;
      const cursor =
        lastEventId !== undefined && lastEventId !== ""
          ? lastEventId
          : (url.searchParams.get("cursor") ?? "");
      const call = callInfo(req, url, ChatService.method.feed);
      nameResponse(res, call);
      admit(
        options.policies,
        call,
        () => serveStream(feed, { cursor }, options, call, res, feedFrames),
        (refusal) => failWith(res, callError(refusal)),
      );
    },
  };
}

/** A Feed response as SSE frames; the last event frame carries the cursor as its id. */
function feedFrames(response: FeedResponse): string {
  const frames: string[] = [];
  let comments = "";
  for (const event of response.events) {
    if (event.event.case === "heartbeat") comments += ": keep-alive\n\n";
    else if (event.event.case !== undefined) frames.push(eventFields(event));
  }
  if (frames.length === 0) return comments;
  const last = frames.length - 1;
  frames[last] = `id: ${response.cursor}\n${frames[last]}`;
  return `${frames.map((f) => `${f}\n`).join("")}${comments}`;
}

/** `event:` and `data:` of one feed event (no blank line yet). */
function eventFields(event: FeedEvent): string {
  const kind = event.event.case as string;
  const json = toJson(FeedEventSchema, event) as Record<string, unknown>;
  return `event: ${kind}\ndata: ${JSON.stringify(json[kind] ?? {})}\n`;
}
