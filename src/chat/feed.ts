import { Code, ConnectError } from "@connectrpc/connect";
import { ChatService, type FeedRequest, type FeedResponse } from "../../gen/chat/v1/chat_pb.js";
import { endOf, type ServerStreamCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import { allowsRoom, identityOf } from "../identity/identity.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";
import { decodeCursor } from "./feed-cursor.js";
import { FeedHeartbeats } from "./feed-heartbeats.js";
import { FeedStream } from "./feed-stream.js";

/** The fields of a Feed request the core reads. */
export type FeedFields = Pick<FeedRequest, "cursor">;

/**
 * The Feed method, also behind the SSE gateway (/feed/events): the caller's
 * identity and cursor checked before anything is written (FAILED_PRECONDITION
 * without identity, INVALID_ARGUMENT naming `cursor`), then the caller's
 * feed until the call ends (see FeedStream).
 */
export function feedCore(
  hub: RoomHub,
  log: MessageLog,
  gate: Gate,
): ServerStreamCore<FeedFields, FeedResponse> {
  const beats = new FeedHeartbeats(hub.heartbeatMs);
  return {
    kind: "server_streaming",
    method: ChatService.method.feed,
    start(req, scope, sink) {
      const identity = identityOf(scope.call);
      if (identity === undefined) {
        throw new ConnectError(
          "Feed speaks for the caller, and this server checks no identity (--auth off): start it with --auth guest or --auth jwt",
          Code.FailedPrecondition,
        );
      }
      const user = identity.subject;
      const cursor = req.cursor === "" ? undefined : decodeCursor(user, req.cursor);
      gate.take(scope.call, "joins");
      new FeedStream(
        { hub, log, beats },
        { user, allows: (room) => allowsRoom(identity, room), cursor },
        endOf(scope),
        sink,
      ).open();
    },
  };
}
