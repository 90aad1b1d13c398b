import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ChatService,
  type ListMembersRequest,
  ListMembersResponseSchema,
  type ListRoomsRequest,
  type ListRoomsResponse,
  ListRoomsResponseSchema,
  type RoomSummary,
  RoomSummarySchema,
  type SetTypingRequest,
  SetTypingResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { CallScope, MethodCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import { allowsRoom, identityOf } from "../identity/identity.js";
import { isConversationId, LIMITS } from "../limits.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog, RoomMemberCount } from "../store/message-log.js";
import { roomsWithoutConversations } from "./rooms-page.js";
import { invalidArgument, validAuthor, validRoom } from "./validate.js";

/** The methods about who is where: ListRooms, ListMembers and SetTyping. */
export function presenceCores(hub: RoomHub, log: MessageLog, gate: Gate): MethodCore[] {
  return [
    {
      kind: "unary",
      method: ChatService.method.listRooms,
      run: async (req: ListRoomsRequest, scope: CallScope) => {
        const page = await listRooms(hub, log, req);
        // A token with a rooms claim sees only its rooms: the others are private to it.
        const identity = identityOf(scope.call);
        if (identity !== undefined)
          page.rooms = page.rooms.filter((r) => allowsRoom(identity, r.room));
        return page;
      },
    },
    {
      kind: "unary",
      method: ChatService.method.listMembers,
      run: async (req: ListMembersRequest, scope: CallScope) => {
        const room = validRoom("room", req.room);
        const allowed = gate.room(scope.call, room, "read");
        if (allowed !== undefined) await allowed;
        return create(ListMembersResponseSchema, { members: await hub.listMembers(room) });
      },
    },
    {
      kind: "unary",
      method: ChatService.method.setTyping,
      run: async (req: SetTypingRequest, scope: CallScope) => {
        const room = validRoom("room", req.room);
        const allowed = gate.room(scope.call, room, "write");
        if (allowed !== undefined) await allowed;
        const author = validAuthor("author", gate.author(scope.call, "author", req.author));
        gate.take(scope.call, "typing");
        hub.setTyping(room, author, req.stopped);
        return create(SetTypingResponseSchema);
      },
    },
  ];
}

const NO_ROOMS: readonly RoomMemberCount[] = [];

/**
 * One page of rooms by name: the store's rooms with messages merged with the
 * rooms that have subscribers (which may have no messages yet), in this
 * process (the hub) and in the other processes sharing the store (Redis);
 * member_count adds up every process's subscribers.
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
  const presence = log.presence;
  const [stored, elsewhere] = await Promise.all([
    roomsWithoutConversations((a, n) => log.listRooms(a, n), after, limit + 1),
    presence === undefined
      ? NO_ROOMS
      : roomsWithoutConversations((a, n) => presence.roomsElsewhere(a, n), after, limit + 1),
  ]);
  for (const r of stored) {
    byName.set(
      r.room,
      create(RoomSummarySchema, {
        room: r.room,
        lastSeq: BigInt(r.lastSeq),
        lastActivity: timestampFromMs(r.lastSentAtMs),
      }),
    );
  }
  const withMembers = elsewhere.concat(
    hub.liveRooms().map((live) => ({ room: live.name, memberCount: live.memberCount })),
  );
  for (const { room, memberCount } of withMembers) {
    // Conversations are listed by ListMyRooms, to their participants only.
    if (room <= after || isConversationId(room)) continue;
    const summary = byName.get(room) ?? create(RoomSummarySchema, { room });
    summary.memberCount += memberCount;
    byName.set(room, summary);
  }
  const rooms = [...byName.values()].sort((a, b) => (a.room < b.room ? -1 : 1));
  return create(ListRoomsResponseSchema, {
    rooms: rooms.slice(0, limit),
    hasMore: rooms.length > limit,
  });
}
