import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type ChatService,
  type ListRoomsRequest,
  type ListRoomsResponse,
  ListRoomsResponseSchema,
  type RoomSummary,
  RoomSummarySchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";
import { LIMITS } from "./limits.js";
import { invalidArgument, validAuthor, validRoom } from "./validate.js";

/** The ChatService handlers about who is where: ListRooms, ListMembers and SetTyping. */
export function presenceHandlers(
  hub: RoomHub,
  log: MessageLog,
): Pick<ServiceImpl<typeof ChatService>, "listRooms" | "listMembers" | "setTyping"> {
  return {
    listRooms(req) {
      return listRooms(hub, log, req);
    },

    listMembers(req) {
      return { members: hub.members(validRoom("room", req.room)) };
    },

    setTyping(req) {
      const room = validRoom("room", req.room);
      const author = validAuthor("author", req.author);
      hub.setTyping(room, author, req.stopped);
      return {};
    },
  };
}

/**
 * One page of rooms by name: the store's rooms with messages merged with the
 * hub's rooms that have subscribers (which may have no messages yet).
 */
export async function listRooms(
  hub: RoomHub,
  log: MessageLog,
  req: ListRoomsRequest,
): Promise<ListRoomsResponse> {
  const after = req.afterRoom === "" ? "" : validRoom("after_room", req.afterRoom);
  if (req.limit > LIMITS.listRoomsMaxLimit) {
    throw invalidArgument(
      "limit",
      `must be at most ${LIMITS.listRoomsMaxLimit} (got ${req.limit})`,
    );
  }
  const limit = req.limit === 0 ? LIMITS.listRoomsDefaultLimit : req.limit;
  const byName = new Map<string, RoomSummary>();
  // limit + 1 stored rooms: every stored room that sorts before the page's end
  // is among them, and the extra one tells whether more remain.
  for (const r of await log.listRooms(after, limit + 1)) {
    byName.set(
      r.room,
      create(RoomSummarySchema, {
        room: r.room,
        lastSeq: BigInt(r.lastSeq),
        lastActivity: timestampFromMs(r.lastSentAtMs),
      }),
    );
  }
  for (const live of hub.liveRooms()) {
    if (live.name <= after) continue;
    const summary = byName.get(live.name) ?? create(RoomSummarySchema, { room: live.name });
    summary.memberCount = live.memberCount;
    byName.set(live.name, summary);
  }
  const rooms = [...byName.values()].sort((a, b) => (a.room < b.room ? -1 : 1));
  return create(ListRoomsResponseSchema, {
    rooms: rooms.slice(0, limit),
    hasMore: rooms.length > limit,
  });
}
