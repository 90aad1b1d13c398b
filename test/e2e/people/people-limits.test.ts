import { afterEach, describe, expect, it } from "vitest";
import { conversationId } from "../../../src/chat/conversation-id.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import { LIMITS } from "../../../src/limits.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { refusal, tokenFor } from "../../helpers/people-calls.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { secretFile } from "../../helpers/tokens.js";

// The limits of the People methods: the membership limit (1000 rooms and
// conversations per user), the join rate on OpenConversation, and the
// server's cap of participants (--conversation-max-participants). Each
// refusal stores nothing.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
let server: ParleyServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(overrides: Partial<AuthConfig> = {}) {
  server = await startTestServer({
    auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET), ...overrides },
  });
  return chatClient(server.url);
}

const as = (sub: string) => tokenFor(SECRET, sub);

describe("the membership limit", () => {
  it("refuses the 1001st JoinRoom and OpenConversation, and being added to a new conversation past it; a post to a new room is stored without the membership", async () => {
    const client = await start({
      limits: { ...AUTH_DEFAULTS.limits, sends: { perSecond: 1000, burst: 1000 } },
    });
    const ann = await as("ann");
    const rooms = Array.from(
      { length: LIMITS.membershipsMax },
      (_, i) => `r${String(i).padStart(4, "0")}`,
    );
    for (let i = 0; i < rooms.length; i += 100) {
      await Promise.all(rooms.slice(i, i + 100).map((room) => client.joinRoom({ room }, ann)));
    }
    const full = [
      "ResourceExhausted",
      'memberships: "ann" is a member of 1000 rooms and conversations, the most one user may have; leave one (LeaveRoom) first',
    ];
    expect(await refusal(client.joinRoom({ room: "one-more" }, ann))).toEqual(full);
    expect(await refusal(client.openConversation({ participants: ["bob"] }, ann))).toEqual(full);
    // A room already joined is still fine: nothing changes.
    expect((await client.joinRoom({ room: "r0000" }, ann)).alreadyMember).toBe(true);

    // Nor may others add her to a new conversation: the limit is hers, whoever asks.
    expect(
      await refusal(client.openConversation({ participants: ["cy", " ann "] }, await as("bob"))),
    ).toEqual([
      "ResourceExhausted",
      'participants[1]: "ann" is a member of 1000 rooms and conversations, the most one user may have, so a new conversation cannot add them',
    ]);

    // Nothing of the refusals was stored: no conversation, for bob or cy either.
    const dm = conversationId(["ann", "bob"]);
    expect((await client.listMyRooms({}, await as("bob"))).rooms).toEqual([]);
    expect((await client.listMyRooms({}, await as("cy"))).rooms).toEqual([]);
    expect(await refusal(client.history({ room: dm }, await as("bob")))).toEqual([
      "NotFound",
      `conversation ${dm} not found`,
    ]);

    // The post is stored and answered; the membership is not.
    const sent = await client.send({ room: "one-more", text: "still stored" }, ann);
    expect(sent.message?.seq).toBe(1n);
    const mine = await client.listMyRooms({}, ann);
    expect(mine.rooms).toHaveLength(LIMITS.membershipsMax);
    expect(mine.rooms.some((r) => r.room === "one-more")).toBe(false);

    // Leaving one makes room for one.
    await client.leaveRoom({ room: "r0000" }, ann);
    expect((await client.joinRoom({ room: "one-more" }, ann)).room?.lastSeq).toBe(1n);
  });
});

describe("OpenConversation's limits", () => {
  it("counts against the caller's join rate, and a refusal stores nothing", async () => {
    const client = await start({
      limits: { ...AUTH_DEFAULTS.limits, joins: { perSecond: 0.01, burst: 2 } },
    });
    const ann = await as("ann");
    await client.openConversation({ participants: ["bob"] }, ann);
    await client.openConversation({ participants: ["cy"] }, ann);
    const [code, message] = await refusal(client.openConversation({ participants: ["dee"] }, ann));
    expect(code).toBe("ResourceExhausted");
    expect(message).toMatch(/^"ann" .* faster than the limit of 0\.01\/s/);
    expect((await client.listMyRooms({}, await as("dee"))).rooms).toEqual([]);
    expect((await client.listMyRooms({}, ann)).rooms).toHaveLength(2);
  });

  it("takes its cap of participants from --conversation-max-participants", async () => {
    const client = await start({ conversationMaxParticipants: 3 });
    const ann = await as("ann");
    expect(
      await refusal(client.openConversation({ participants: ["bob", "cy", "dee"] }, ann)),
    ).toEqual([
      "InvalidArgument",
      "participants: a conversation may have at most 3 participants, the caller included (got 4)",
    ]);
    expect((await client.listMyRooms({}, ann)).rooms).toEqual([]);
    const three = await client.openConversation({ participants: ["bob", "cy", "ann"] }, ann);
    expect(three.conversation?.participants).toEqual(["ann", "bob", "cy"]);
  });
});

describe("ListRooms without conversations", () => {
  it("pages past them: limit and has_more count rooms only", async () => {
    const client = await start();
    const ann = await as("ann");
    // Rooms on both sides of the conversations' place in name order ("dm." ...).
    for (const room of ["a1", "dm-x", "dm0", "zz"]) await client.send({ room, text: "x" }, ann);
    for (const other of ["b1", "b2", "b3", "b4"]) {
      const opened = await client.openConversation({ participants: [other] }, ann);
      await client.send({ room: opened.conversation?.room ?? "", text: "private" }, ann);
    }
    const pages: [string[], boolean][] = [];
    let after = "";
    for (;;) {
      const page = await client.listRooms({ afterRoom: after, limit: 1 }, ann);
      pages.push([page.rooms.map((r) => r.room), page.hasMore]);
      const last = page.rooms.at(-1);
      if (!page.hasMore || last === undefined) break;
      after = last.room;
    }
    expect(pages).toEqual([
      [["a1"], true],
      [["dm-x"], true],
      [["dm0"], true],
      [["zz"], false],
    ]);
    const whole = await client.listRooms({ limit: 3 }, ann);
    expect([whole.rooms.map((r) => r.room), whole.hasMore]).toEqual([["a1", "dm-x", "dm0"], true]);
    const rest = await client.listRooms({ afterRoom: "dm-x", limit: 2 }, ann);
    expect([rest.rooms.map((r) => r.room), rest.hasMore]).toEqual([["dm0", "zz"], false]);
  });
});
