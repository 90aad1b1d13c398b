import {
  ChatService,
  type SubscribeRequest,
  type SubscribeResponse,
  SubscribeResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { ServerStreamCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import type { RoomHub } from "../rooms/room-hub.js";
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
      gate.room(scope.call, room, "read");
      // Without identity an empty author stays anonymous; with it, it is the token's subject.
      const requested = gate.author(scope.call, "author", req.author);
      const author = requested === "" ? "" : validAuthor("author", requested);
      const epoch = validEpoch("epoch", req.epoch);
      const sinceSeq = req.sinceSeq === undefined ? undefined : validSeq("since_seq", req.sinceSeq);
      gate.take(scope.call, "joins");
      hub.feed(room, { author, epoch, sinceSeq }, scope.signal, {
        deliver: (batch) => sink.send(eventsReply(SubscribeResponseSchema, batch)),
        drained: () => sink.drained(),
        end: (reason) => sink.end(reason),
      });
    },
  };
}
