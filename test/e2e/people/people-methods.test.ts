import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationId } from "../../../src/chat/conversation-id.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { refusal, tokenFor } from "../../helpers/people-calls.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// Issue 20's People methods through the RPCs of a real server (jwt mode,
// tokens signed by the test): JoinRoom, LeaveRoom, ListMyRooms, MarkRead and
// OpenConversation, their happy paths and every refusal of their bad input,
// each refusal storing nothing; and posting to a room joining it.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";

let server: ParleyServer;
let open: ParleyServer;

function authConfig(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET), ...overrides };
}

beforeAll(async () => {
  server = await startTestServer({ auth: authConfig() });
  open = await startTestServer();
});
afterAll(async () => {
  await server.stop();
  await open.stop();
});

const as = (sub: string) => tokenFor(SECRET, sub);

const client = () => chatClient(server.url);

/** The caller's memberships as [room, last_seq, read_seq, unread]. */
async function myRooms(sub: string) {
  const page = await client().listMyRooms({}, await as(sub));
  return page.rooms.map((r) => [r.room, Number(r.lastSeq), Number(r.readSeq), Number(r.unread)]);
}

describe("without identity (--auth off)", () => {
  it("every People method fails with FAILED_PRECONDITION, and conversations are not found", async () => {
    const c = chatClient(open.url);
    const dm = conversationId(["ann", "bob"]);
    const says = (method: string) => [
      "FailedPrecondition",
      `${method} speaks for the caller, and this server checks no identity (--auth off): start it with --auth guest or --auth jwt`,
    ];
    expect(await refusal(c.joinRoom({ room: "lobby" }))).toEqual(says("JoinRoom"));
    expect(await refusal(c.leaveRoom({ room: "lobby" }))).toEqual(says("LeaveRoom"));
    expect(await refusal(c.listMyRooms({}))).toEqual(says("ListMyRooms"));
    expect(await refusal(c.markRead({ room: "lobby", seq: 0n }))).toEqual(says("MarkRead"));
    expect(await refusal(c.openConversation({ participants: ["bob"] }))).toEqual(
      says("OpenConversation"),
    );
    const notFound = ["NotFound", `conversation ${dm} not found`];
    expect(await refusal(c.send({ room: dm, author: "ann", text: "hi" }))).toEqual(notFound);
    expect(await refusal(c.history({ room: dm }))).toEqual(notFound);
    // A post by nobody in particular joins nobody.
    await c.send({ room: "lobby", author: "ann", text: "hi" });
    expect((await c.history({ room: "lobby" })).messages.map((m) => m.text)).toEqual(["hi"]);
  });
});

describe("JoinRoom, LeaveRoom and ListMyRooms", () => {
  it("joins with the read position at the last seq, again changes nothing, and counts what follows", async () => {
    const bob = await as("bob");
    for (const text of ["one", "two"]) await client().send({ room: "jr-lobby", text }, bob);
    const joined = await client().joinRoom({ room: "jr-lobby" }, await as("jo"));
    expect(joined.alreadyMember).toBe(false);
    expect(joined.room?.room).toBe("jr-lobby");
    expect(joined.room?.participants).toEqual([]);
    expect([joined.room?.lastSeq, joined.room?.readSeq, joined.room?.unread]).toEqual([2n, 2n, 0n]);
    expect(joined.room?.lastActivity).toBeDefined();
    expect(joined.room?.joinedAt).toBeDefined();
    const again = await client().joinRoom({ room: "jr-lobby" }, await as("jo"));
    expect(again.alreadyMember).toBe(true);
    expect(again.room?.joinedAt).toEqual(joined.room?.joinedAt);

    // A room without messages yet: last seq 0, no last activity.
    const empty = await client().joinRoom({ room: "jr-empty" }, await as("jo"));
    expect([empty.room?.lastSeq, empty.room?.readSeq, empty.room?.unread]).toEqual([0n, 0n, 0n]);
    expect(empty.room?.lastActivity).toBeUndefined();

    for (const text of ["three", "four", "five"])
      await client().send({ room: "jr-lobby", text }, bob);
    const page = await client().listMyRooms({}, await as("jo"));
    expect(page.rooms.map((r) => [r.room, r.lastSeq, r.readSeq, r.unread])).toEqual([
      ["jr-empty", 0n, 0n, 0n],
      ["jr-lobby", 5n, 2n, 3n],
    ]);
    expect(page.unreadTotal).toBe(3n);
    const last = await client().history({ room: "jr-lobby", limit: 1 }, bob);
    const lastActivity = page.rooms[1]?.lastActivity;
    expect(lastActivity && timestampDate(lastActivity)).toEqual(
      last.messages[0]?.sentAt && timestampDate(last.messages[0].sentAt),
    );
  });

  it("leaves once (was_member true), then changes nothing (false)", async () => {
    const jo = await as("leaver");
    await client().joinRoom({ room: "lv-room" }, jo);
    expect((await client().leaveRoom({ room: "lv-room" }, jo)).wasMember).toBe(true);
    expect((await client().leaveRoom({ room: "lv-room" }, jo)).wasMember).toBe(false);
    expect(await myRooms("leaver")).toEqual([]);
  });

  it("refuses a bad room name with INVALID_ARGUMENT naming room, and stores nothing", async () => {
    const jo = await as("badroom");
    const bad = [
      "InvalidArgument",
      'room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "No Such")',
    ];
    expect(await refusal(client().joinRoom({ room: "No Such" }, jo))).toEqual(bad);
    expect(await refusal(client().leaveRoom({ room: "No Such" }, jo))).toEqual(bad);
    expect(await refusal(client().markRead({ room: "No Such", seq: 0n }, jo))).toEqual(bad);
    expect(await refusal(client().joinRoom({ room: "" }, jo))).toEqual([
      "InvalidArgument",
      "room: is required",
    ]);
    expect(await myRooms("badroom")).toEqual([]);
  });

  it("a token without chat:write may list its rooms but not join one", async () => {
    const reader = {
      headers: {
        authorization: `Bearer ${await hsToken(SECRET, { sub: "reader", scope: "chat:read" })}`,
      },
    };
    expect(await refusal(client().joinRoom({ room: "lobby" }, reader))).toEqual([
      "PermissionDenied",
      'the token of "reader" lacks the chat:write scope',
    ]);
    expect((await client().listMyRooms({}, reader)).rooms).toEqual([]);
  });

  it("a token with a rooms claim lists only the memberships it may touch, as its Feed's ready does", async () => {
    const whole = await as("tess");
    for (const room of ["team-a", "secret-room", "team-b"]) {
      await client().joinRoom({ room }, whole);
    }
    const dm = (await client().openConversation({ participants: ["uma"] }, whole)).conversation
      ?.room;
    expect((await myRooms("tess")).map(([room]) => room)).toEqual(
      [dm, "secret-room", "team-a", "team-b"].sort(),
    );
    const narrow = {
      headers: {
        authorization: `Bearer ${await hsToken(SECRET, { sub: "tess", rooms: ["team-*"] })}`,
      },
    };
    const listed = await client().listMyRooms({}, narrow);
    expect(listed.rooms.map((r) => r.room)).toEqual(["team-a", "team-b"]);
    const feed = client().feed({}, narrow);
    for await (const response of feed) {
      const ready = response.events.find((e) => e.event.case === "ready")?.event;
      expect(ready?.case === "ready" ? ready.value.rooms.map((r) => r.room) : []).toEqual([
        "team-a",
        "team-b",
      ]);
      break;
    }
  });
});

describe("MarkRead", () => {
  it("moves forward, never backwards, and refuses a seq beyond the last seq", async () => {
    const bob = await as("bob");
    for (const text of ["1", "2", "3"]) await client().send({ room: "mr-room", text }, bob);
    const mo = await as("mo");
    await client().joinRoom({ room: "mr-room" }, mo);
    for (const text of ["4", "5"]) await client().send({ room: "mr-room", text }, bob);
    expect(await myRooms("mo")).toEqual([["mr-room", 5, 3, 2]]);

    expect(await refusal(client().markRead({ room: "mr-room", seq: 6n }, mo))).toEqual([
      "OutOfRange",
      "seq: 6 is beyond the last seq of room mr-room, 5",
    ]);
    expect(await myRooms("mo")).toEqual([["mr-room", 5, 3, 2]]);

    const moved = await client().markRead({ room: "mr-room", seq: 4n }, mo);
    expect([moved.readSeq, moved.unread, moved.changed]).toEqual([4n, 1n, true]);
    const behind = await client().markRead({ room: "mr-room", seq: 2n }, mo);
    expect([behind.readSeq, behind.unread, behind.changed]).toEqual([4n, 1n, false]);
    const same = await client().markRead({ room: "mr-room", seq: 4n }, mo);
    expect(same.changed).toBe(false);
    const all = await client().markRead({ room: "mr-room", seq: 5n }, mo);
    expect([all.readSeq, all.unread, all.changed]).toEqual([5n, 0n, true]);
    expect(await myRooms("mo")).toEqual([["mr-room", 5, 5, 0]]);
  });

  it("refuses a caller that is not a member with FAILED_PRECONDITION, whatever the seq, storing nothing", async () => {
    await client().send({ room: "mr-other", text: "x" }, await as("bob"));
    const nm = await as("nonmember");
    for (const seq of [1n, 9n]) {
      expect(await refusal(client().markRead({ room: "mr-other", seq }, nm))).toEqual([
        "FailedPrecondition",
        '"nonmember" is not a member of room mr-other: JoinRoom (or a post there) first',
      ]);
    }
    expect(await myRooms("nonmember")).toEqual([]);
  });
});

describe("OpenConversation", () => {
  it("opens one conversation per set of people, whoever asks and however", async () => {
    const opened = await client().openConversation(
      { participants: ["oc-bob"] },
      await as("oc-ann"),
    );
    const id = conversationId(["oc-ann", "oc-bob"]);
    expect(opened.created).toBe(true);
    expect(opened.conversation?.room).toBe(id);
    expect(opened.conversation?.participants).toEqual(["oc-ann", "oc-bob"]);
    expect([opened.conversation?.lastSeq, opened.conversation?.unread]).toEqual([0n, 0n]);

    // The same people, from the other side, named twice and with spaces.
    const again = await client().openConversation(
      { participants: [" oc-ann ", "oc-ann", "oc-bob"] },
      await as("oc-bob"),
    );
    expect(again.created).toBe(false);
    expect(again.conversation?.room).toBe(id);

    // Both are members; bob's message is unread for ann.
    await client().send({ room: id, text: "hi ann" }, await as("oc-bob"));
    expect(await myRooms("oc-ann")).toEqual([[id, 1, 0, 1]]);
    const list = await client().listMyRooms({}, await as("oc-ann"));
    expect(list.rooms[0]?.participants).toEqual(["oc-ann", "oc-bob"]);
    const page = await client().history({ room: id }, await as("oc-ann"));
    expect(page.messages.map((m) => [m.author, m.text])).toEqual([["oc-bob", "hi ann"]]);

    // Leaving hides it; opening it again makes the caller a member again, caught up.
    expect((await client().leaveRoom({ room: id }, await as("oc-ann"))).wasMember).toBe(true);
    expect(await myRooms("oc-ann")).toEqual([]);
    const back = await client().openConversation({ participants: ["oc-bob"] }, await as("oc-ann"));
    expect(back.created).toBe(false);
    expect([back.conversation?.lastSeq, back.conversation?.readSeq]).toEqual([1n, 1n]);
    expect(await myRooms("oc-ann")).toEqual([[id, 1, 1, 0]]);
  });

  it("three people, and the participants need not have signed in", async () => {
    const opened = await client().openConversation(
      { participants: ["trio-c", "trio-b"] },
      await as("trio-a"),
    );
    expect(opened.conversation?.participants).toEqual(["trio-a", "trio-b", "trio-c"]);
    expect(opened.conversation?.room).toBe(conversationId(["trio-c", "trio-b", "trio-a"]));
    expect(await myRooms("trio-c")).toEqual([[opened.conversation?.room, 0, 0, 0]]);
  });

  it("refuses bad participants with INVALID_ARGUMENT naming the field, storing nothing", async () => {
    const ann = await as("bad-ann");
    const cases: [string[], string][] = [
      [[], "participants: must name at least one other person"],
      [
        ["bad-ann"],
        'participants: must name someone besides the caller "bad-ann" (a conversation with oneself alone is none)',
      ],
      [
        [" bad-ann ", "bad-ann"],
        'participants: must name someone besides the caller "bad-ann" (a conversation with oneself alone is none)',
      ],
      [["bob", "  "], "participants[1]: must be 1-32 characters after trimming (got 0)"],
      [["bob", "x".repeat(33)], "participants[1]: must be 1-32 characters after trimming (got 33)"],
      [["bo\u0007b"], "participants[0]: must not contain control characters"],
      [
        Array.from({ length: 16 }, (_, i) => `p${i}`),
        "participants: a conversation may have at most 16 participants, the caller included (got 17)",
      ],
    ];
    for (const [participants, message] of cases) {
      expect(await refusal(client().openConversation({ participants }, ann))).toEqual([
        "InvalidArgument",
        message,
      ]);
    }
    expect(await myRooms("bad-ann")).toEqual([]);
    for (let i = 0; i < 16; i++) expect(await myRooms(`p${i}`)).toEqual([]);
    // 15 others and the caller: at the cap, accepted.
    const full = await client().openConversation(
      { participants: Array.from({ length: 15 }, (_, i) => `p${i}`) },
      ann,
    );
    expect(full.conversation?.participants).toHaveLength(16);
  });
});

describe("posting joins", () => {
  it("a Send to a new room lists it in ListMyRooms with unread 0; later messages count", async () => {
    await client().send({ room: "pj-new", text: "mine" }, await as("pj-ann"));
    expect(await myRooms("pj-ann")).toEqual([["pj-new", 1, 1, 0]]);
    await client().send({ room: "pj-new", text: "theirs" }, await as("pj-bob"));
    expect(await myRooms("pj-ann")).toEqual([["pj-new", 2, 1, 1]]);
    // Another post of a member moves nothing.
    await client().send({ room: "pj-new", text: "mine again" }, await as("pj-ann"));
    expect(await myRooms("pj-ann")).toEqual([["pj-new", 3, 1, 2]]);
    expect(await myRooms("pj-bob")).toEqual([["pj-new", 3, 2, 1]]);
  });

  it("a Listener stream's and a Chat stream's posts join their room", async () => {
    const ann = await as("pj-streams");
    await client().listener(
      (async function* () {
        yield { room: "pj-listener", text: "a" };
        yield { room: "pj-listener", text: "b" };
      })(),
      ann,
    );
    const chat = client().chat(
      (async function* () {
        yield { action: { case: "join" as const, value: { room: "pj-chat" } } };
        yield { action: { case: "post" as const, value: { text: "c" } } };
      })(),
      ann,
    );
    // The stream delivers the post back once it is stored: then it has joined.
    for await (const res of chat) {
      if (res.events.some((e) => e.event.case === "message")) break;
    }
    expect(await myRooms("pj-streams")).toEqual([
      ["pj-chat", 1, 1, 0],
      ["pj-listener", 2, 1, 1],
    ]);
  });
});
