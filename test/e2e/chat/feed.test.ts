import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService, FeedRequestSchema, ResumeErrorSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../../src/client/ws-transport.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { FeedReader, feedMessages, messageCount } from "../../helpers/feed-reader.js";
import { stalledStream } from "../../helpers/stalled-subscriber.js";
import { range } from "../../helpers/streams.js";
import { chatClient, startTestServer, type TransportName } from "../../helpers/test-server.js";

/** Guest logins, with send and join rates no test here comes near. */
const GUEST: AuthConfig = {
  ...AUTH_DEFAULTS,
  mode: "guest",
  limits: {
    ...AUTH_DEFAULTS.limits,
    sends: { perSecond: 1_000_000, burst: 1_000_000 },
    joins: { perSecond: 1_000_000, burst: 1_000_000 },
  },
};

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** Every user's rooms: each room has members and non-members among the three. */
const ROOMS: Record<string, string[]> = {
  ann: ["r1", "r2", "r3"],
  bo: ["r2", "r3", "r4"],
  cy: ["r4", "r5", "r1"],
};
const ALL_ROOMS = ["r1", "r2", "r3", "r4", "r5"];

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

/** Per room, the seqs a feed delivered, in the order it delivered them. */
function seqsByRoom(events: Parameters<typeof feedMessages>[0]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of feedMessages(events)) {
    const [room, seq] = m.split(":") as [string, string];
    const list = out[room] ?? [];
    list.push(Number(seq));
    out[room] = list;
  }
  return out;
}

describe("Feed: one stream of everything addressed to a user", () => {
  let server: ParleyServer;
  const tokens: Record<string, string> = {};

  /** Make `user` a member of `room` (the store directly until JoinRoom is served). */
  async function join(user: string, room: string): Promise<void> {
    const head = await server.log.people.join(
      user,
      room,
      (await server.log.head(room)).lastSeq,
      1000,
    );
    expect(head.membership.room).toBe(room);
  }

  beforeAll(async () => {
    server = await startTestServer({ auth: GUEST, heartbeatMs: 300 });
    const client = chatClient(server.url);
    for (const name of ["ann", "bo", "cy", "zed"]) {
      tokens[name] = (await client.login({ name })).token;
    }
    for (const [user, rooms] of Object.entries(ROOMS)) {
      for (const room of rooms) await join(user, room);
    }
  });
  afterAll(() => server.stop());

  it("with racing senders, each user's feed holds exactly its rooms' messages, in seq order per room, once each", async () => {
    const PER_ROOM = 60;
    const transports: TransportName[] = ["connect-h2", "grpc-h2", "grpcweb-h1"];
    const feeds = Object.keys(ROOMS).map(
      (user, i) => new FeedReader(chatClient(server.url, transports[i]), tokens[user] as string),
    );
    const readies = await Promise.all(feeds.map((f) => f.until((e) => e.length >= 1)));
    for (const [i, user] of Object.keys(ROOMS).entries()) {
      const ready = readies[i]?.[0]?.event;
      expect(ready?.case).toBe("ready");
      if (ready?.case !== "ready") return;
      expect(ready.value.rooms.map((r) => r.room)).toEqual([...(ROOMS[user] ?? [])].sort());
    }
    // One sender per room, and two more on r1 and r4, all at once.
    const sender = chatClient(server.url, "connect-h2");
    const post = async (room: string, count: number, tag: string) => {
      for (let i = 0; i < count; i++) {
        await sender.send({ room, text: `${tag}${i}` }, bearer(tokens.zed as string));
      }
    };
    await Promise.all([
      ...ALL_ROOMS.map((room) => post(room, PER_ROOM - 20, "a")),
      post("r1", 20, "b"),
      post("r4", 20, "b"),
      ...["r2", "r3", "r5"].map((room) => post(room, 20, "c")),
    ]);
    const users = Object.keys(ROOMS);
    await Promise.all(
      users.map((user, i) =>
        (feeds[i] as FeedReader).until(
          (e) => messageCount(e) >= (ROOMS[user] ?? []).length * PER_ROOM,
        ),
      ),
    );
    // A message the sender posts last to every room: anything extra would come before it.
    await Promise.all(ALL_ROOMS.map((room) => post(room, 1, "last")));
    for (const [i, user] of users.entries()) {
      const feed = feeds[i] as FeedReader;
      const mine = ROOMS[user] ?? [];
      await feed.until((e) => messageCount(e) >= mine.length * (PER_ROOM + 1));
      const byRoom = seqsByRoom(feed.events);
      expect(Object.keys(byRoom).sort()).toEqual([...mine].sort());
      for (const room of mine) expect(byRoom[room]).toEqual(range(1, PER_ROOM + 1));
      feed.close();
    }
  });

  it("resumes from a cursor mid-way with no gap and no duplicate, and carries joined, read and left", async () => {
    const client = chatClient(server.url, "connect-h2");
    const ann = tokens.ann as string;
    const first = new FeedReader(client, ann);
    await first.until((e) => e.length >= 1);
    const heads = Object.fromEntries(
      await Promise.all(
        ["r1", "r2", "r3"].map(async (r) => [r, (await server.log.head(r)).lastSeq] as const),
      ),
    );
    const sends = ["r1", "r2", "r3"].flatMap((room) =>
      range(1, 30).map((i) => ({ room, text: `x${i}` })),
    );
    const posting = (async () => {
      for (const s of sends) await client.send(s, bearer(tokens.zed as string));
    })();
    // Stop part-way, at a response boundary, and keep that response's cursor.
    await first.until((e) => messageCount(e) >= 40);
    first.close();
    await posting;
    const second = new FeedReader(client, ann, first.cursor);
    await second.until((e) => messageCount(e) >= 90 - messageCount(first.events));
    const all = seqsByRoom([...first.events, ...second.events]);
    for (const room of ["r1", "r2", "r3"]) {
      const from = heads[room] as number;
      expect(all[room]).toEqual(range(from + 1, from + 30));
    }
    expect(second.events[0]?.event.case).toBe("ready");

    // Joined: r5's messages after the join follow its joined event.
    await client.send({ room: "r5", text: "before ann" }, bearer(tokens.zed as string));
    await join("ann", "r5");
    await client.send({ room: "r5", text: "after ann" }, bearer(tokens.zed as string));
    const r5Last = (await server.log.head("r5")).lastSeq;
    await second.until((e) => feedMessages(e).includes(`r5:${r5Last}`));
    const joinedAt = second.events.findIndex((e) => e.event.case === "joined");
    expect(second.events[joinedAt]?.event.value).toMatchObject({ room: "r5" });
    expect(feedMessages(second.events.slice(joinedAt)).filter((m) => m.startsWith("r5:"))).toEqual([
      `r5:${r5Last}`,
    ]);
    // Read: MarkRead's change reaches the feed.
    await server.log.people.markRead("ann", "r2", (await server.log.head("r2")).lastSeq);
    await second.until((e) => e.some((x) => x.event.case === "read"));
    const read = second.events.find((e) => e.event.case === "read")?.event.value;
    expect(read).toMatchObject({
      room: "r2",
      readSeq: BigInt((await server.log.head("r2")).lastSeq),
    });
    // Left: r1's messages stop.
    await server.log.people.leave("ann", "r1");
    await second.until((e) => e.some((x) => x.event.case === "left"));
    await client.send({ room: "r1", text: "ann is gone" }, bearer(tokens.zed as string));
    await client.send({ room: "r2", text: "still here" }, bearer(tokens.zed as string));
    const r2Last = (await server.log.head("r2")).lastSeq;
    await second.until((e) => feedMessages(e).includes(`r2:${r2Last}`));
    const leftAt = second.events.findIndex((e) => e.event.case === "left");
    expect(feedMessages(second.events.slice(leftAt)).filter((m) => m.startsWith("r1:"))).toEqual(
      [],
    );
    second.close();

    // A resume after the leave starts r5 where the cursor left it and drops r1.
    await client.send({ room: "r5", text: "while away" }, bearer(tokens.zed as string));
    const third = new FeedReader(client, ann, second.cursor);
    await third.until((e) => messageCount(e) >= 1);
    const ready = third.events[0]?.event;
    expect(ready?.case === "ready" && ready.value.rooms.map((r) => r.room)).toEqual([
      "r2",
      "r3",
      "r5",
    ]);
    expect(feedMessages(third.events)).toEqual([`r5:${r5Last + 1}`]);
    third.close();
    await server.log.people.leave("ann", "r5");
    await join("ann", "r1");
  });

  it("is served on every protocol: Connect, gRPC-Web, HTTP/1.1 and the WebSocket transport", async () => {
    const ws = createWebSocketTransport({
      baseUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const clients = [
      chatClient(server.url, "connect-h1"),
      chatClient(server.url, "grpcweb-h2"),
      createClient(ChatService, ws),
    ];
    try {
      const feeds = clients.map((c) => new FeedReader(c, tokens.bo as string));
      await Promise.all(feeds.map((f) => f.until((e) => e.length >= 1)));
      const sent = await chatClient(server.url).send(
        { room: "r4", text: "to every protocol" },
        bearer(tokens.zed as string),
      );
      for (const f of feeds) {
        await f.until((e) => messageCount(e) >= 1);
        f.close();
        expect(feedMessages(f.events)).toEqual([`r4:${sent.message?.seq}`]);
      }
    } finally {
      ws.close();
    }
  });

  it("refuses a malformed cursor and another user's cursor with INVALID_ARGUMENT naming it", async () => {
    const client = chatClient(server.url, "connect-h2");
    const ann = new FeedReader(client, tokens.ann as string);
    await ann.until((e) => e.length >= 1);
    ann.close();
    for (const bad of ["not a cursor!", "AQ", "Ag", `${ann.cursor}A`]) {
      const e = await failure(new FeedReader(client, tokens.ann as string, bad).next());
      expect([e.code, e.rawMessage.startsWith("cursor: malformed")]).toEqual([
        Code.InvalidArgument,
        true,
      ]);
    }
    const e = await failure(new FeedReader(client, tokens.bo as string, ann.cursor).next());
    expect([e.code, e.rawMessage]).toEqual([
      Code.InvalidArgument,
      "cursor: was given to another user",
    ]);
  });

  it("keeps its followers out of presence: no join events, not in ListMembers", async () => {
    const client = chatClient(server.url, "connect-h2");
    const feed = new FeedReader(client, tokens.bo as string);
    await feed.until((e) => e.length >= 1);
    const members = await client.listMembers({ room: "r4" }, bearer(tokens.zed as string));
    expect(members.members).toEqual([]);
    const rooms = await client.listRooms({}, bearer(tokens.zed as string));
    expect(rooms.rooms.find((r) => r.room === "r4")?.memberCount).toBe(0);
    feed.close();
  });

  it("sends a heartbeat while the whole feed is idle", async () => {
    const feed = new FeedReader(chatClient(server.url, "grpc-h2"), tokens.cy as string);
    await feed.until((e) => e.some((x) => x.event.case === "heartbeat"));
    expect(feed.events.map((e) => e.event.case).slice(0, 2)).toEqual(["ready", "heartbeat"]);
    feed.close();
  });
});

describe("Feed refusals that need a server of their own", () => {
  it("answers FAILED_PRECONDITION on a server that checks no identity", async () => {
    const server = await startTestServer();
    try {
      const it = chatClient(server.url).feed({})[Symbol.asyncIterator]();
      const e = await failure(it.next());
      expect(e.code).toBe(Code.FailedPrecondition);
    } finally {
      await server.stop();
    }
  });

  it("answers a cursor older than retention with OUT_OF_RANGE and a ResumeError naming the room's range", async () => {
    const server = await startTestServer({ auth: GUEST, retention: 5 });
    try {
      const client = chatClient(server.url);
      const ann = (await client.login({ name: "ann" })).token;
      await server.log.people.join("ann", "old", 0, 1000);
      const feed = new FeedReader(client, ann);
      await feed.until((e) => e.length >= 1);
      await client.send({ room: "old", text: "one" }, bearer(ann));
      await feed.until((e) => messageCount(e) >= 1);
      feed.close();
      for (let i = 0; i < 10; i++) await client.send({ room: "old", text: `m${i}` }, bearer(ann));
      const e = await failure(new FeedReader(client, ann, feed.cursor).next());
      expect(e.code).toBe(Code.OutOfRange);
      expect(e.rawMessage).toContain('room "old"');
      const detail = e.findDetails(ResumeErrorSchema)[0];
      expect([detail?.firstSeq, detail?.lastSeq]).toEqual([7n, 11n]);
    } finally {
      await server.stop();
    }
  });
});

describe("a feed whose reader stops reading", () => {
  it("is cut off with RESOURCE_EXHAUSTED at the queue cap, told to resume with its cursor, and loses nothing", async () => {
    const server = await startTestServer({
      auth: GUEST,
      queueEvents: 1000,
      queueBytes: 64 * 1024,
      slowGraceMs: 600_000,
    });
    try {
      const client = chatClient(server.url, "grpc-h2");
      const ann = (await client.login({ name: "ann" })).token;
      const zed = (await client.login({ name: "zed" })).token;
      await server.log.people.join("ann", "busy", 0, 1000);
      const auth = { authorization: `Bearer ${ann}` };
      // Reads the first response (ready, with the cursor at the start), then nothing.
      const stalled = await stalledStream(
        server.url,
        "Feed",
        toBinary(FeedRequestSchema, create(FeedRequestSchema, {})),
        auth,
      );
      const start = new FeedReader(client, ann);
      await start.until((e) => e.length >= 1);
      start.close();
      // 1 MiB of messages: past the hard cap (256 KiB) and what the HTTP/2
      // windows and socket buffers hold (a few hundred KiB), so the feed is cut.
      const text = "z".repeat(500);
      const sent = 2000;
      for (let i = 0; i < sent; i += 25) {
        await Promise.all(range(1, 25).map(() => client.send({ room: "busy", text }, bearer(zed))));
      }
      const rest = await stalled.readRest();
      expect(rest.status).toBe(String(Code.ResourceExhausted));
      expect(decodeURIComponent(rest.message ?? "")).toMatch(
        /^feed too slow: in room "busy", subscriber too slow: \d+ bytes unread, over the cap of 262144; resume with the last cursor received$/,
      );
      // Resuming from where it started loses nothing.
      const again = new FeedReader(client, ann, start.cursor);
      await again.until((e) => messageCount(e) >= sent);
      again.close();
      expect(seqsByRoom(again.events).busy).toEqual(range(1, sent));
    } finally {
      await server.stop();
    }
  });
});

describe("a feed open when the server shuts down", () => {
  it("ends with UNAVAILABLE", async () => {
    const server = await startTestServer({ auth: GUEST });
    const client = chatClient(server.url, "connect-h2");
    const ann = (await client.login({ name: "ann" })).token;
    await server.log.people.join("ann", "r1", 0, 1000);
    const feed = new FeedReader(client, ann);
    await feed.until((e) => e.length >= 1);
    const stopping = server.stop();
    const e = await failure(feed.until(() => false));
    await stopping;
    expect(e.code).toBe(Code.Unavailable);
  });
});
