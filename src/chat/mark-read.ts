import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ChatService,
  type MarkReadRequest,
  type MarkReadResponse,
  MarkReadResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { UnaryCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import type { MessageLog } from "../store/message-log.js";
import { callerAndRoom } from "./membership-cores.js";
import { unreadOf } from "./people-common.js";
import { validSeq } from "./validate.js";

/**
 * MarkRead: move the caller's read position forward. A caller that is not
 * a member is refused FAILED_PRECONDITION, whatever the seq; a seq beyond
 * the room's last seq is refused before anything is stored; one at or
 * behind the stored position changes nothing.
 */
export function markReadCore(
  log: MessageLog,
  gate: Gate,
): UnaryCore<MarkReadRequest, MarkReadResponse> {
  return {
    kind: "unary",
    method: ChatService.method.markRead,
    async run(req, scope) {
      const { user, room } = await callerAndRoom(gate, scope.call, "room", req.room, "write");
      const seq = validSeq("seq", req.seq);
      const notMember = () =>
        new ConnectError(
          `"${user}" is not a member of room ${room}: JoinRoom (or a post there) first`,
          Code.FailedPrecondition,
        );
      const { lastSeq } = await log.head(room);
      if (seq > lastSeq) {
        // Not being a member comes first, whatever the seq (read only on this refusal's path).
        if ((await log.people.membership(user, room)) === undefined) throw notMember();
        throw new ConnectError(
          `seq: ${seq} is beyond the last seq of room ${room}, ${lastSeq}`,
          Code.OutOfRange,
        );
      }
      const moved = await log.people.markRead(user, room, seq);
      if (moved === undefined) throw notMember();
      return create(MarkReadResponseSchema, {
        readSeq: BigInt(moved.readSeq),
        unread: BigInt(unreadOf(lastSeq, moved.readSeq)),
        changed: moved.changed,
      });
    },
  };
}
