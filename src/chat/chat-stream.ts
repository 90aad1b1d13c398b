import {
  type ChatRequest,
  type ChatResponse,
  ChatResponseSchema,
  ChatService,
} from "../../gen/chat/v1/chat_pb.js";
import { endOfSignal } from "../calls/call-end.js";
import type { BidiCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import type { RoomHub } from "../rooms/room-hub.js";
import { eventsReply } from "./event-replies.js";
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
 * The Chat method: the first request joins a room, later ones post to it,
 * and the response side carries the room's events as Subscribe does. Posts
 * are stored one at a time in arrival order (the next request is read once
 * the previous post is stored, and the first post once the join is
 * accepted); a bad or failed post ends the whole stream with its error, and
 * nothing of it is stored. When the client closes its
 * side, events keep coming until it cancels.
 */
export function chatCore(hub: RoomHub, gate: Gate): BidiCore<ChatRequest, ChatResponse> {
  return {
    kind: "bidi_streaming",
    method: ChatService.method.chat,
    start(scope, sink) {
      // Ends the room feed early when a post fails; otherwise follows the call.
      const stopFeed = new AbortController();
      const onScopeAbort = () => stopFeed.abort(scope.signal.reason);
      scope.signal.addEventListener("abort", onScopeAbort, { once: true });
      let member: { room: string; author: string } | undefined;
      /** A join waiting on its conversation check. */
      let joining: Promise<void> | undefined;
      let failed = false;
      let index = 0;
      const fail = (error: unknown) => {
        if (failed) return;
        failed = true;
        if (member === undefined) sink.end(error);
        else stopFeed.abort(error);
      };
      const join = (req: ChatRequest) => {
        if (req.action.case !== "join") {
          throw invalidArgument("join", "the first request of a Chat stream must be a join");
        }
        const j = req.action.value;
        const room = validRoom("join.room", j.room);
        const allowed = gate.room(scope.call, room, "read");
        const author = validAuthor("join.author", gate.author(scope.call, "join.author", j.author));
        const epoch = validEpoch("join.epoch", j.epoch);
        const sinceSeq =
          j.sinceSeq === undefined ? undefined : validSeq("join.since_seq", j.sinceSeq);
        /** Follow the room; resolves once the feed started (ready sent) or ended (a refused resume). */
        const follow = () =>
          new Promise<void>((settled) => {
            gate.take(scope.call, "joins");
            member = { room, author };
            hub.feed(room, { author, epoch, sinceSeq }, endOfSignal(stopFeed.signal), {
              deliver: (batch) => {
                settled();
                return sink.send(eventsReply(ChatResponseSchema, batch));
              },
              drained: () => sink.drained(),
              end: (reason) => {
                // No post of a refused join is read, so none is stored.
                if (reason !== undefined) failed = true;
                settled();
                scope.signal.removeEventListener("abort", onScopeAbort);
                sink.end(reason);
              },
            });
          });
        // No post is read until the join is accepted (the returned promise
        // holds them): a conversation's participants are checked first, and a
        // resume point the room cannot serve (another epoch, a seq past its end
        // or trimmed) ends the stream before any post is stored.
        joining = (allowed ?? Promise.resolve())
          .then(() => {
            if (failed) return;
            if (stopFeed.signal.aborted) return fail(stopFeed.signal.reason);
            return follow();
          })
          .catch(fail);
        return joining;
      };
      const post = (req: ChatRequest, i: number, to: { room: string; author: string }) => {
        if (req.action.case !== "post") {
          throw invalidArgument(`requests[${i}]`, "every request after the join must be a post");
        }
        const text = validText(`requests[${i}].post.text`, req.action.value.text);
        const clientMessageId = validClientMessageId(
          `requests[${i}].post.client_message_id`,
          req.action.value.clientMessageId,
        );
        const append = () => {
          gate.take(scope.call, "sends");
          return hub.append(to.room, { author: to.author, text, clientMessageId }).then(
            (result) => gate.posted(scope.call, result.message),
            (error: unknown) => fail(error),
          );
        };
        const allowed = gate.room(scope.call, to.room, "write");
        return allowed === undefined ? append() : allowed.then(append).catch(fail);
      };
      return {
        request(req) {
          if (failed) return undefined;
          const i = index++;
          try {
            if (member === undefined) return join(req);
            return post(req, i, member);
          } catch (error) {
            fail(error);
            return undefined;
          }
        },
        end() {
          // A stream that never joined has nothing to follow; a joined one keeps its events.
          const endUnjoined = () => {
            if (member === undefined && !failed) sink.end();
          };
          if (joining === undefined) endUnjoined();
          else void joining.then(endUnjoined);
        },
      };
    },
  };
}
