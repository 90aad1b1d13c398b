import {
  ChatService,
  type SubscribeRequest,
  type SubscribeResponse,
  SubscribeResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import { endOf, type ReplySink, type ServerStreamCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import type { QueuedEvent } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { EventSink } from "../rooms/room-stream.js";
import { eventsReply } from "./event-replies.js";
import { validAuthor, validEpoch, validRoom, validSeq } from "./validate.js";

/** The fields of a Subscribe request a subscription reads. */
export type SubscribeFields = Pick<SubscribeRequest, "room" | "author" | "epoch" | "sinceSeq">;

/**
 * The Subscribe method, also behind the SSE gateway: the request validated
 * (INVALID_ARGUMENT naming the field, before anything is written), then the
 * room's events for this subscriber until the call ends.
 */
export function subscribeCore(
  hub: RoomHub,
  gate: Gate,
): ServerStreamCore<SubscribeFields, SubscribeResponse> {
  return {
    kind: "server_streaming",
    method: ChatService.method.subscribe,
    start(req, scope, sink) {
      const room = validRoom("room", req.room);
      const allowed = gate.room(scope.call, room, "read");
      // Without identity an empty author stays anonymous; with it, it is the token's subject.
      const requested = gate.author(scope.call, "author", req.author);
      const author = requested === "" ? "" : validAuthor("author", requested);
      const epoch = validEpoch("epoch", req.epoch);
      const sinceSeq = req.sinceSeq === undefined ? undefined : validSeq("since_seq", req.sinceSeq);
      if (allowed === undefined) {
        gate.take(scope.call, "joins");
        hub.feed(room, { author, epoch, sinceSeq }, endOf(scope), new SubscribeReplies(sink));
        return;
      }
      // A conversation: its participants are checked first, and a refusal
      // (or a rate refusal after it) ends the stream before anything is written.
      allowed
        .then(() => {
          const end = endOf(scope);
          if (end.aborted) return sink.end(end.reason);
          gate.take(scope.call, "joins");
          hub.feed(room, { author, epoch, sinceSeq }, endOf(scope), new SubscribeReplies(sink));
        })
        .catch((error: unknown) => sink.end(error));
    },
  };
}

/**
 * A subscription's event batches as Subscribe replies. A class, not an
 * object of closures: it lives as long as the stream, and methods on the
 * prototype cost an idle stream nothing (bench/stream-heap.ts).
 */
class SubscribeReplies implements EventSink {
  constructor(private readonly sink: ReplySink<SubscribeResponse>) {}

  deliver(batch: QueuedEvent[]): boolean {
    return this.sink.send(eventsReply(SubscribeResponseSchema, batch));
  }

  drained(): Promise<void> {
    return this.sink.drained();
  }

  end(reason: unknown): void {
    this.sink.end(reason);
  }
}
