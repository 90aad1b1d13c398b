import type { HandlerContext } from "@connectrpc/connect";
import {
  type ChatRequest,
  type ChatResponse,
  ChatResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { RoomHub } from "../rooms/room-hub.js";
import { abortable } from "./abortable.js";
import { eventResponses } from "./event-responses.js";
import {
  invalidArgument,
  validAuthor,
  validClientMessageId,
  validEpoch,
  validRoom,
  validSeq,
  validText,
} from "./validate.js";

/**
 * The Chat bidi stream: the first request joins a room, later ones post to
 * it, and the response side carries the room's events as Subscribe does.
 * Posts are read concurrently with the event stream; a bad post ends the
 * whole stream with INVALID_ARGUMENT (the bad post is not stored).
 */
export async function* runChat(
  hub: RoomHub,
  requests: AsyncIterable<ChatRequest>,
  ctx: HandlerContext,
): AsyncGenerator<Omit<ChatResponse, "$typeName">> {
  // Ends the request side when the event side ends for any reason (a failed
  // post, a slow-subscriber cut-off, the client going away, shutdown).
  const stopPosts = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stopPosts.signal]);
  const it = abortable(requests, signal)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  if (first.value.action.case !== "join") {
    throw invalidArgument("join", "the first request of a Chat stream must be a join");
  }
  const join = first.value.action.value;
  const room = validRoom("join.room", join.room);
  const author = validAuthor("join.author", join.author);
  const epoch = validEpoch("join.epoch", join.epoch);
  const sinceSeq =
    join.sinceSeq === undefined ? undefined : validSeq("join.since_seq", join.sinceSeq);

  const posts = (async () => {
    for (let i = 1; ; i++) {
      const next = await it.next();
      if (next.done) return;
      const action = next.value.action;
      if (action.case !== "post") {
        throw invalidArgument(`requests[${i}]`, "every request after the join must be a post");
      }
      const text = validText(`requests[${i}].post.text`, action.value.text);
      const clientMessageId = validClientMessageId(
        `requests[${i}].post.client_message_id`,
        action.value.clientMessageId,
      );
      await hub.append(room, { author, text, clientMessageId });
    }
  })();
  // A failed post ends the event stream with the post's error.
  posts.catch((error: unknown) => stopPosts.abort(error));
  try {
    const respond = eventResponses(ChatResponseSchema, ctx.requestHeader.get("content-type"));
    for await (const batch of hub.stream(room, { author, epoch, sinceSeq }, signal)) {
      yield respond(batch);
    }
  } finally {
    // Aborting rejects the posts loop's pending read, which ends `it`.
    stopPosts.abort();
  }
}
