import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { MemoryLog } from "../../../src/store/memory-log.js";
import { EMPTY_MEMBERS_TTL_S } from "../../../src/store/redis-presence-scripts.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { openSse } from "../../helpers/sse-client.js";
import { readUntil } from "../../helpers/streams.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// Issue 11 point 7: History, Subscribe, SSE and a Chat join on a never-used
// name each used to add a persistent room. Reads of an unknown room now answer
// as an empty room and store nothing. On memory and SQLite the answer names
// the epoch the room's first Send will keep (derived, not stored); Redis
// answers "" until then.

type Client = ReturnType<typeof chatClient>;

const servers: ParleyServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(store: string): Promise<ParleyServer> {
  const server = await startTestServer({ store });
  servers.push(server);
  return server;
}

const EMPTY = { lastSeq: 0n, firstSeq: 0n };

/**
 * Every way to read a room, each on its own never-used name; each answers as
 * an empty room. Resolves with the names and the epoch each read was given.
 */
async function readEveryWay(server: ParleyServer, prefix: string): Promise<Map<string, string>> {
  const client = chatClient(server.url);
  const names = ["history", "subscribe", "sse", "chat"].map((w) => `${prefix}-${w}`);
  const [h, s, e, c] = names as [string, string, string, string];

  const history = await client.history({ room: h });
  expect([history.messages, history.lastSeq, history.firstSeq]).toEqual([[], 0n, 0n]);

  const subAbort = new AbortController();
  const sub = client.subscribe({ room: s }, { signal: subAbort.signal })[Symbol.asyncIterator]();
  const [ready] = await readUntil(sub, (seen) => seen.length >= 1);
  const subReady = ready?.event.case === "ready" ? ready.event.value : undefined;
  expect(subReady).toMatchObject({ room: s, ...EMPTY });
  subAbort.abort();

  const sse = await openSse(`${server.url}/rooms/${e}/events`);
  const frames = await sse.readUntil((f) => f.some((x) => x.event === "ready"));
  const sseReady = JSON.parse(frames.find((x) => x.event === "ready")?.data ?? "{}");
  expect([sseReady.room, sseReady.lastSeq ?? "0", sseReady.firstSeq ?? "0"]).toEqual([e, "0", "0"]);
  sse.close();

  const chatAbort = new AbortController();
  async function* requests() {
    yield { action: { case: "join" as const, value: { room: c, author: "cy" } } };
    await new Promise((resolve) => chatAbort.signal.addEventListener("abort", resolve));
  }
  const chat = client.chat(requests(), { signal: chatAbort.signal })[Symbol.asyncIterator]();
  const [chatReady] = await readUntil(chat, (seen) => seen.length >= 1);
  const joined = chatReady?.event.case === "ready" ? chatReady.event.value : undefined;
  expect(joined).toMatchObject({ room: c, ...EMPTY });
  chatAbort.abort();
  return new Map([
    [h, history.epoch],
    [s, subReady?.epoch ?? "?"],
    [e, (sseReady.epoch as string | undefined) ?? ""],
    [c, joined?.epoch ?? "?"],
  ]);
}

/** Each room's head as History gives it. */
async function heads(client: Client, names: Iterable<string>) {
  return Promise.all(
    [...names].map(async (room) => {
      const h = await client.history({ room });
      return { room, epoch: h.epoch, lastSeq: h.lastSeq, messages: h.messages.length };
    }),
  );
}

/** What heads() answers for rooms still empty, with the epochs the reads were given. */
function asEmpty(epochs: Map<string, string>) {
  return [...epochs].map(([room, epoch]) => ({ room, epoch, lastSeq: 0n, messages: 0 }));
}

/** ListRooms once the readers' streams have left (members count as rooms while present). */
async function roomsOnceLeft(client: Client): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const rooms = (await client.listRooms({})).rooms.map((r) => r.room);
    if (rooms.length === 0) return rooms;
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await client.listRooms({})).rooms.map((r) => r.room);
}

/** The first Send creates the room, keeping the epoch the reads named (when they named one). */
async function firstWriteCreates(client: Client, epochs: Map<string, string>): Promise<void> {
  const [room, named] = [...epochs][0] as [string, string];
  const sent = await client.send({ room, author: "ann", text: "first" });
  expect(sent.message?.seq).toBe(1n);
  const after = await client.history({ room });
  expect(after.epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
  if (named !== "") expect(after.epoch).toBe(named);
  expect([after.lastSeq, after.firstSeq, after.messages.map((m) => m.text)]).toEqual([
    1n,
    1n,
    ["first"],
  ]);
}

describe("reads of an unknown room store nothing", () => {
  it("memory: every read answers an empty room; the store holds no room; a Send creates it", async () => {
    const server = await serve("memory:");
    const client = chatClient(server.url);
    const epochs = await readEveryWay(server, "ghost");
    for (const epoch of epochs.values()) expect(epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(await roomsOnceLeft(client)).toEqual([]);
    expect(await heads(client, epochs.keys())).toEqual(asEmpty(epochs));
    expect(server.log).toBeInstanceOf(MemoryLog);
    expect((server.log as MemoryLog).roomCount).toBe(0);
    await firstWriteCreates(client, epochs);
    expect((server.log as MemoryLog).roomCount).toBe(1);
  });

  describe("sqlite", () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it("the same: the file holds no room row; after a restart the reads name the same epochs", async () => {
      const dir = mkdtempSync(join(tmpdir(), "parley-unknown-"));
      dirs.push(dir);
      const path = join(dir, "rooms.db");
      const first = await serve(`sqlite:${path}`);
      const epochs = await readEveryWay(first, "ghost");
      expect(await roomsOnceLeft(chatClient(first.url))).toEqual([]);
      await first.stop();

      const db = new Database(path, { readonly: true });
      const rows = db
        .prepare(
          "SELECT (SELECT COUNT(*) FROM rooms) AS rooms, (SELECT COUNT(*) FROM messages) AS messages",
        )
        .get();
      db.close();
      expect(rows).toEqual({ rooms: 0, messages: 0 });

      const second = await serve(`sqlite:${path}`);
      const client = chatClient(second.url);
      expect(await heads(client, epochs.keys())).toEqual(asEmpty(epochs));
      await firstWriteCreates(client, epochs);
    });
  });

  // Needs redis-server: this block starts its own on a free port (never the shared 6379).
  describe.runIf(redisTestsCanRun("unknown-room tests on Redis"))("redis", () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("the same, and Redis keeps no room key, only member hashes that expire", async () => {
      const server = await serve(redis.url);
      const client = chatClient(server.url);
      const epochs = await readEveryWay(server, "ghost");
      const names = [...epochs.keys()];
      expect([...epochs.values()]).toEqual(["", "", "", ""]);
      expect(await roomsOnceLeft(client)).toEqual([]);
      expect(await heads(client, names)).toEqual(asEmpty(epochs));
      // No room key was ever written. The streams' member hashes, left with
      // only their change counter, expire within EMPTY_MEMBERS_TTL_S.
      const streamed = names.slice(1).map((n) => `parley:{${n}}:members`);
      expect(redis.cli("KEYS", "*ghost*").split("\n").sort()).toEqual([...streamed].sort());
      for (const key of streamed) {
        expect(redis.cli("HKEYS", key)).toBe("#v");
        const ttl = Number(redis.cli("TTL", key));
        expect(ttl > 0 && ttl <= EMPTY_MEMBERS_TTL_S).toBe(true);
      }
      await firstWriteCreates(client, epochs);
    });
  });
});
