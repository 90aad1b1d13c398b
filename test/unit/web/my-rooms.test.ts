import { create } from "@bufbuild/protobuf";
import { expect, it } from "vitest";
import {
  type FeedEvent,
  FeedEventSchema,
  type MyRoom,
  MyRoomSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import { conversationName, MyRooms } from "../../../web/src/my-rooms.js";

// The web app's model of the person's rooms, fed with feed events as the
// server sends them: counts are last seq less read position, positions only
// move forward, and an event applied twice (a resumed feed) changes nothing.

const DM = "dm.aaaaaaaaaaaaaaaaaaaaaaaaaa";

function room(name: string, lastSeq: number, readSeq: number, participants: string[] = []) {
  return create(MyRoomSchema, {
    room: name,
    lastSeq: BigInt(lastSeq),
    readSeq: BigInt(readSeq),
    participants,
  });
}
const ready = (...rooms: MyRoom[]): FeedEvent =>
  create(FeedEventSchema, { event: { case: "ready", value: { rooms } } });
const message = (r: string, seq: number): FeedEvent =>
  create(FeedEventSchema, { event: { case: "message", value: { room: r, seq: BigInt(seq) } } });
const read = (r: string, seq: number): FeedEvent =>
  create(FeedEventSchema, { event: { case: "read", value: { room: r, readSeq: BigInt(seq) } } });
const joined = (value: MyRoom): FeedEvent =>
  create(FeedEventSchema, { event: { case: "joined", value } });
const left = (r: string): FeedEvent =>
  create(FeedEventSchema, { event: { case: "left", value: { room: r } } });

function counts(rooms: MyRooms): Record<string, number> {
  return Object.fromEntries(rooms.all().map((m) => [m.room, rooms.unread(m.room)]));
}

it("counts unread per room from ready, messages and read events, forward only, each event once", () => {
  let changes = 0;
  const rooms = new MyRooms(() => changes++);
  expect(rooms.known).toBe(false);
  rooms.apply(ready(room("design", 5, 3), room(DM, 2, 2, ["ann", "bo"])));
  expect(rooms.known).toBe(true);
  expect(counts(rooms)).toEqual({ design: 2, [DM]: 0 });

  rooms.apply(message(DM, 3));
  rooms.apply(message(DM, 3)); // again, as a resumed feed may not: nothing changes
  rooms.apply(message("lobby", 9)); // not a member: ignored
  expect(counts(rooms)).toEqual({ design: 2, [DM]: 1 });

  rooms.apply(read("design", 5));
  rooms.apply(read("design", 4)); // behind: nothing moves back
  expect(counts(rooms)).toEqual({ design: 0, [DM]: 1 });

  rooms.apply(joined(room("lobby", 9, 9)));
  rooms.apply(joined(room("design", 5, 1))); // a stale joined never moves a position back
  expect(counts(rooms)).toEqual({ design: 0, [DM]: 1, lobby: 0 });

  rooms.apply(left("lobby"));
  expect(counts(rooms)).toEqual({ design: 0, [DM]: 1 });
  expect(rooms.unread("lobby")).toBe(0);

  // A new connection's ready replaces everything known.
  rooms.apply(ready(room(DM, 4, 3, ["ann", "bo"])));
  expect(counts(rooms)).toEqual({ [DM]: 1 });
  // One change each: ready, the new message, the read, two joined, the left, the ready.
  expect(changes).toBe(7);
});

it("names a conversation by its other participants", () => {
  expect(conversationName(["ann", "bo"], "ann")).toBe("bo");
  expect(conversationName(["ann", "bo", "cy"], "bo")).toBe("ann, cy");
});
