import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { readUntil } from "../../helpers/streams.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// ListRooms, ListMembers and the member list in Ready, against a real server
// (a fresh memory store per test).
let server: ParleyServer;
const aborts: AbortController[] = [];
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await server.stop();
});

const client = () => chatClient(server.url);

/** Subscribe as `author` and wait for Ready; returns the stream and its Ready. */
async function join(room: string, author: string) {
  const abort = new AbortController();
  aborts.push(abort);
  const it = client().subscribe({ room, author }, { signal: abort.signal })[Symbol.asyncIterator]();
  const [first] = await readUntil(it, (s) => s.length >= 1);
  if (first?.event.case !== "ready") throw new Error("the first event was not ready");
  return { it, ready: first.event.value, abort };
}

const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : undefined);

const has = (kind: RoomEvent["event"]["case"]) => (seen: RoomEvent[]) =>
  seen.some((e) => e.event.case === kind);

it("ListRooms lists rooms with messages or members, by name, with counts, last seq and activity", async () => {
  const c = client();
  const b1 = await c.send({ room: "beta", author: "ann", text: "one" });
  const b2 = await c.send({ room: "beta", author: "ann", text: "two" });
  const a1 = await c.send({ room: "alpha", author: "bob", text: "hi" });
  await join("beta", "ann");
  await join("beta", "");
  await join("zeta", "cat");
  // A room only ever looked at (History creates nothing visible) is not listed.
  await c.history({ room: "ghost" });

  const page = await c.listRooms({});
  expect(
    page.rooms.map((r) => ({
      room: r.room,
      members: r.memberCount,
      lastSeq: r.lastSeq,
      activity: ms(r.lastActivity),
    })),
  ).toEqual([
    { room: "alpha", members: 0, lastSeq: 1n, activity: ms(a1.message?.sentAt) },
    { room: "beta", members: 2, lastSeq: 2n, activity: ms(b2.message?.sentAt) },
    { room: "zeta", members: 1, lastSeq: 0n, activity: undefined },
  ]);
  expect(page.hasMore).toBe(false);
  expect(b1.message?.seq).toBe(1n);
});

it("ListRooms pages by after_room and limit, merging stored and live rooms", async () => {
  const c = client();
  for (const room of ["r1", "r3", "r5"]) await c.send({ room, author: "ann", text: "x" });
  await join("r2", "bob");
  await join("r4", "bob");
  const names: string[][] = [];
  let after = "";
  for (;;) {
    const page = await c.listRooms({ afterRoom: after, limit: 2 });
    names.push(page.rooms.map((r) => r.room));
    if (!page.hasMore) break;
    after = page.rooms.at(-1)?.room ?? "";
  }
  expect(names).toEqual([["r1", "r2"], ["r3", "r4"], ["r5"]]);
});

it("ListRooms refuses a bad limit or after_room, naming the field", async () => {
  const c = client();
  await expect(c.listRooms({ limit: 1001 })).rejects.toMatchObject({
    code: Code.InvalidArgument,
    rawMessage: "limit: must be at most 1000 (got 1001)",
  });
  await expect(c.listRooms({ afterRoom: "Bad Room" })).rejects.toMatchObject({
    code: Code.InvalidArgument,
    rawMessage:
      'after_room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "Bad Room")',
  });
});

it("Ready lists the members present, itself included; ListMembers agrees; a leave updates both", async () => {
  const ann = await join("lobby", "ann");
  expect(ann.ready.members.map((m) => [m.memberId, m.author])).toEqual([
    [ann.ready.memberId, "ann"],
  ]);
  const anon = await join("lobby", "");
  const bob = await join("lobby", "bob");
  const expected = [
    [ann.ready.memberId, "ann"],
    [anon.ready.memberId, ""],
    [bob.ready.memberId, "bob"],
  ];
  expect(bob.ready.members.map((m) => [m.memberId, m.author])).toEqual(expected);
  const listed = await client().listMembers({ room: "lobby" });
  expect(listed.members.map((m) => [m.memberId, m.author])).toEqual(expected);

  anon.abort.abort();
  await readUntil(bob.it, has("leave"));
  const after = await client().listMembers({ room: "lobby" });
  expect(after.members.map((m) => m.author)).toEqual(["ann", "bob"]);
  expect((await client().listMembers({ room: "empty" })).members).toEqual([]);
});

it("ListMembers refuses a bad room, naming the field", async () => {
  const error = await client()
    .listMembers({ room: "" })
    .catch((e: unknown) => ConnectError.from(e));
  expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: "room: is required" });
});
