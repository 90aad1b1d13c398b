import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationId } from "../../../src/chat/conversation-id.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { startCuttableProxy } from "../../helpers/cuttable-proxy.js";
import { tokenFor } from "../../helpers/people-calls.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { eventually } from "../../helpers/room-watcher.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { secretFile } from "../../helpers/tokens.js";

// The People methods and conversation privacy on the stores that outlive a
// process: on SQLite, a restarted server (which remembers no conversation
// yet) still refuses a non-participant and serves a participant; on Redis,
// a node that did not open a conversation does the same, and a LeaveRoom on
// one node is heard by the other, so a post there joins the room again.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
const auth: AuthConfig = { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET) };

const as = (sub: string) => tokenFor(SECRET, sub);

async function answer(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    const e = ConnectError.from(error);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
}

const rooms = async (url: string, who: string) =>
  (await chatClient(url).listMyRooms({}, await as(who))).rooms.map((r) => [
    r.room,
    Number(r.lastSeq),
    Number(r.readSeq),
  ]);

describe("on SQLite, across a restart", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "parley-people-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps memberships, read positions and conversations, and a fresh process checks participants from the store", async () => {
    const store = `sqlite:${join(dir, "parley.db")}`;
    const dm = conversationId(["ann", "bob"]);
    let server: ParleyServer = await startTestServer({ store, auth });
    try {
      const c = chatClient(server.url);
      await c.openConversation({ participants: ["bob"] }, await as("ann"));
      await c.send({ room: dm, text: "hi" }, await as("bob"));
      await c.send({ room: "lobby", text: "hello" }, await as("ann"));
      await c.markRead({ room: dm, seq: 1n }, await as("ann"));
    } finally {
      await server.stop();
    }
    server = await startTestServer({ store, auth });
    try {
      const c = chatClient(server.url);
      // eve first: nothing of the conversation is in this process's memory yet.
      expect(await answer(c.history({ room: dm }, await as("eve")))).toBe(
        `NotFound: conversation ${dm} not found`,
      );
      expect(await answer(c.history({ room: dm }, await as("ann")))).toBe("ok");
      expect(await rooms(server.url, "ann")).toEqual([
        [dm, 1, 1],
        ["lobby", 1, 1],
      ]);
      // bob was a member from the opening (read position 0): only MarkRead moves it.
      expect(await rooms(server.url, "bob")).toEqual([[dm, 1, 0]]);
      const again = await c.openConversation({ participants: ["ann"] }, await as("bob"));
      expect([again.created, again.conversation?.room]).toEqual([false, dm]);
    } finally {
      await server.stop();
    }
  });
});

describe.runIf(redisTestsCanRun("People methods across two nodes"))(
  "on Redis, across two nodes",
  () => {
    let redis: TestRedis;
    let nodeA: ParleyServer;
    let nodeB: ParleyServer;
    beforeAll(async () => {
      redis = await startRedis();
      nodeA = await startTestServer({ store: redis.url, auth });
      nodeB = await startTestServer({ store: redis.url, auth });
    }, 60_000);
    afterAll(async () => {
      await nodeA?.stop();
      await nodeB?.stop();
      await redis?.stop();
    });

    it("a conversation opened on one node is private on the other", async () => {
      const opened = await chatClient(nodeA.url).openConversation(
        { participants: ["bo"] },
        await as("al"),
      );
      const dm = opened.conversation?.room ?? "";
      const b = chatClient(nodeB.url);
      expect(await answer(b.send({ room: dm, text: "x" }, await as("eve")))).toBe(
        `NotFound: conversation ${dm} not found`,
      );
      expect(await answer(b.send({ room: dm, text: "from b" }, await as("bo")))).toBe("ok");
      expect(await rooms(nodeB.url, "al")).toEqual([[dm, 1, 0]]);
    });

    it("a LeaveRoom on one node is heard on the other: a post there joins again", async () => {
      const b = chatClient(nodeB.url);
      // The first post on B joins (and B remembers the membership).
      await b.send({ room: "hall", text: "1" }, await as("cy"));
      expect(await rooms(nodeA.url, "cy")).toEqual([["hall", 1, 1]]);
      await chatClient(nodeA.url).leaveRoom({ room: "hall" }, await as("cy"));
      expect(await rooms(nodeA.url, "cy")).toEqual([]);
      // Once B hears of the leave (pub/sub), its next post joins again.
      await eventually(
        async () => {
          await b.send({ room: "hall", text: "again" }, await as("cy"));
          return (await rooms(nodeA.url, "cy")).length === 1;
        },
        () => "cy is not a member again",
      );
      const [[room, lastSeq, readSeq] = []] = await rooms(nodeA.url, "cy");
      expect([room, readSeq]).toEqual(["hall", lastSeq]);
    });

    it("a feed on a node whose change channel was down ends UNAVAILABLE, and its resume has what it missed", async () => {
      const proxy = await startCuttableProxy(Number(new URL(redis.url).port));
      const nodeC = await startTestServer({ store: `redis://127.0.0.1:${proxy.port}`, auth });
      try {
        const c = chatClient(nodeC.url);
        // No room followed (a room's follower fails by itself while Redis is
        // away): only the missed change can end this feed.
        const stop = new AbortController();
        const feed = c
          .feed({}, { ...(await as("di")), signal: stop.signal })
          [Symbol.asyncIterator]();
        const first = await feed.next();
        const ready = first.value?.events[0]?.event;
        expect(
          ready?.case === "ready" && ready.value.rooms.map((r: { room: string }) => r.room),
        ).toEqual([]);
        const cursor = first.value?.cursor ?? "";

        // Node C's connections to Redis go; a join on node A is published meanwhile.
        proxy.cut();
        await chatClient(nodeA.url).joinRoom({ room: "garden" }, await as("di"));
        proxy.restore();
        // Once C's subscriber is back, the feed says it may have missed changes.
        expect(await answer(feed.next())).toBe(
          "Unavailable: the server missed changes to memberships (its store's change channel was down); resume with the last cursor",
        );
        // The resumed feed may hear of the reconnect too (a resume, like a
        // client's, tries again); its Ready holds the join it missed.
        let resumed: Awaited<ReturnType<typeof feed.next>> | undefined;
        for (let attempt = 0; resumed === undefined && attempt < 5; attempt++) {
          resumed = await c
            .feed({ cursor }, { ...(await as("di")), signal: stop.signal })
            [Symbol.asyncIterator]()
            .next()
            .catch(() => undefined);
        }
        const again = resumed?.value?.events[0]?.event;
        expect(
          again?.case === "ready" && again.value.rooms.map((r: { room: string }) => r.room),
        ).toEqual(["garden"]);
        stop.abort();
      } finally {
        await nodeC.stop();
        await proxy.close();
      }
    }, 60_000);
  },
);
