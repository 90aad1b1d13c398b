import { execFileSync } from "node:child_process";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/logger.js";
import { RoomHub } from "../../../src/rooms/room-hub.js";
import type { ReadRange } from "../../../src/store/message-log.js";
import { roomKeys } from "../../../src/store/redis-keys.js";
import { RedisLog } from "../../../src/store/redis-log.js";
import { parseRedisTarget } from "../../../src/store/redis-target.js";
import { type Feed, feed, isReady as ready, until } from "../../helpers/hub-feed.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { range } from "../../helpers/streams.js";

const ALL: ReadRange = { afterSeq: 0, beforeSeq: 0, limit: 100_000, newest: false };

// Needs redis-server: this file starts its own on a free port (never the shared 6379).
describe.runIf(redisTestsCanRun("Redis cross-node relay tests"))(
  "live delivery across processes sharing Redis (two hubs in one process)",
  () => {
    let redis: TestRedis;
    const logs: RedisLog[] = [];
    const hubs: RoomHub[] = [];
    const feeds: Feed[] = [];

    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });
    afterEach(async () => {
      for (const f of feeds.splice(0)) f.stop();
      for (const h of hubs.splice(0)) h.close();
      for (const l of logs.splice(0)) await l.close();
      redis.cli("FLUSHALL");
    });

    /** A "node": its own RedisLog (connections named NAME:store and NAME:live) and RoomHub. */
    function node(name: string, query = ""): { hub: RoomHub; log: RedisLog } {
      const log = new RedisLog({
        retention: 10_000,
        target: parseRedisTarget(`${redis.url}${query}`),
        connectionName: name,
        logger: createLogger("silent"),
      });
      const hub = new RoomHub(log, { heartbeatMs: 60_000, maxEvents: 100_000, maxBytes: 1 << 26 });
      logs.push(log);
      hubs.push(hub);
      return { hub, log };
    }

    function watch(hub: RoomHub, room: string, author?: string): Feed {
      const f = feed(hub, room, author);
      feeds.push(f);
      return f;
    }

    /** The CLIENT LIST id of the connection with this name. */
    function clientId(name: string): string | undefined {
      const line = redis
        .cli("CLIENT", "LIST")
        .split("\n")
        .find((l) => l.includes(` name=${name} `));
      return /^id=(\d+)/.exec(line ?? "")?.[1];
    }

    it("gives subscribers on every node every message from any node, in one order with the same seqs", async () => {
      const a = node("node-a");
      const b = node("node-b");
      const subs = [watch(a.hub, "lobby"), watch(a.hub, "lobby"), watch(b.hub, "lobby")];
      await until(
        () => subs.every(ready),
        () => subs.map((s) => s.events.length),
      );

      // 60 senders racing, half on each node.
      const sends = await Promise.all(
        range(1, 60).map((i) =>
          (i % 2 === 0 ? a : b).hub.append("lobby", {
            author: "s",
            text: `m${i}`,
            clientMessageId: "",
          }),
        ),
      );
      expect(sends.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(range(1, 60));
      const stored = (await a.log.read("lobby", ALL)).map((m) => [m.seq, m.text]);
      expect(stored.map(([seq]) => seq)).toEqual(range(1, 60));
      await until(
        () => subs.every((s) => s.messages().length >= 60),
        () => subs.map((s) => s.messages().length),
      );
      for (const s of subs) {
        expect(s.messages()).toEqual(stored);
        expect(s.ended).toBeUndefined();
      }
    });

    it("subscribes a node to a room's channel only while the node has subscribers there", async () => {
      const a = node("node-a");
      const { channel } = roomKeys("quiet");
      const channels = () => redis.cli("PUBSUB", "CHANNELS", "*").split("\n").filter(Boolean);
      expect(channels()).toEqual([]);
      const first = watch(a.hub, "quiet");
      const second = watch(a.hub, "quiet");
      await until(() => channels().includes(channel), channels);
      first.stop();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(channels()).toEqual([channel]);
      second.stop();
      await until(() => channels().length === 0, channels);
    });

    it("heals a killed pub/sub connection from the stream: nothing missed, even at a quiet tail", async () => {
      const a = node("node-a");
      const b = node("node-b");
      const sub = watch(a.hub, "heal");
      await until(
        () => ready(sub) && clientId("node-a:live") !== undefined,
        () => sub.events,
      );
      const send = (n: number) =>
        b.hub.append("heal", { author: "b", text: `h${n}`, clientMessageId: "" });
      let sent = 0;
      for (const _ of range(1, 3)) await send(++sent);
      await until(
        () => sub.messages().length === 3,
        () => sub.messages(),
      );

      const killed: string[] = [];
      for (const _round of range(1, 5)) {
        const id = clientId("node-a:live") as string;
        expect(id).toMatch(/^\d+$/);
        killed.push(id);
        redis.cli("CLIENT", "KILL", "ID", id);
        // Sent at once, while node A reconnects (its first retry waits 50 ms):
        // A's subscriber can only get these through the catch-up read.
        await Promise.all([send(++sent), send(++sent), send(++sent)]);
        await until(
          () => sub.messages().length === sent,
          () => sub.messages().map(([seq]) => seq),
        );
      }
      expect(sub.messages()).toEqual(range(1, 18).map((n) => [n, `h${n}`]));
      expect(sub.ended).toBeUndefined();
      // Every round killed a different (the re-established) connection.
      expect(new Set(killed).size).toBe(5);
    });

    it("ends subscriptions with OUT_OF_RANGE when Redis lost acknowledged messages but kept the epoch", async () => {
      const a = node("node-a");
      const sub = watch(a.hub, "rollback");
      await until(
        () => ready(sub) && clientId("node-a:live") !== undefined,
        () => sub.events,
      );
      for (const n of range(1, 5))
        await a.hub.append("rollback", { author: "a", text: `r${n}`, clientMessageId: "" });
      await until(
        () => sub.messages().length === 5,
        () => sub.messages(),
      );
      // What a failover to a replica two writes behind looks like.
      const { meta, log } = roomKeys("rollback");
      redis.cli("XDEL", log, "4-0", "5-0");
      redis.cli("HSET", meta, "seq", "3");
      redis.cli("CLIENT", "KILL", "ID", clientId("node-a:live") as string);
      await until(
        () => sub.ended !== undefined,
        () => sub.messages(),
      );
      const ended = ConnectError.from(sub.ended);
      expect(ended.code).toBe(Code.OutOfRange);
      expect(ended.rawMessage).toBe('since_seq 5 is ahead of room "rollback": its last seq is 3');
    });

    it("shows every node's members: in Ready, as joins and leaves, and in the hub's member list", async () => {
      const a = node("node-a");
      const b = node("node-b");
      const ann = watch(a.hub, "club", "ann");
      await until(
        () => ready(ann),
        () => ann.events.length,
      );
      const bob = watch(b.hub, "club", "bob");
      await until(
        () => ready(bob) && ann.presence().length === 1,
        () => [ann.presence(), bob.presence()],
      );
      // Bob is node B's first subscriber there: its Ready waited for node B to
      // read the list, so Ann is in it, not a join after it.
      expect(bob.readyMembers()).toEqual(["bob", "ann"]);
      expect(ann.presence()).toEqual(["join bob"]);
      expect(bob.presence()).toEqual([]);
      expect(a.hub.members("club").map((m) => m.author)).toEqual(["ann", "bob"]);
      expect(b.hub.members("club").map((m) => m.author)).toEqual(["bob", "ann"]);

      // A later subscriber on node B gets both in its Ready.
      const cid = watch(b.hub, "club", "cid");
      await until(
        () => ready(cid) && ann.presence().length === 2,
        () => ann.presence(),
      );
      expect(cid.readyMembers()).toEqual(["bob", "cid", "ann"]);
      expect(ann.presence()).toEqual(["join bob", "join cid"]);

      bob.stop();
      cid.stop();
      await until(
        () => ann.presence().length === 4,
        () => ann.presence(),
      );
      expect(ann.presence()).toEqual(["join bob", "join cid", "leave bob", "leave cid"]);
      expect(a.hub.members("club").map((m) => m.author)).toEqual(["ann"]);
      expect(ann.ended).toBeUndefined();
    });

    it("passes typing on to the other nodes' subscribers, once each", async () => {
      const a = node("node-a");
      const b = node("node-b");
      const ann = watch(a.hub, "typing-room", "ann");
      const bob = watch(b.hub, "typing-room", "bob");
      // Both relays stand once Ann knows Bob: in her Ready (when his join was
      // in Redis before her node read the list) or as a join after it.
      await until(
        () =>
          ready(ann) &&
          ready(bob) &&
          [...ann.readyMembers(), ...ann.presence()].some((m) => m.endsWith("bob")),
        () => [ann.readyMembers(), ann.presence()],
      );
      b.hub.setTyping("typing-room", "bob", false);
      a.hub.setTyping("typing-room", "ann", false);
      b.hub.setTyping("typing-room", "bob", true);
      await until(
        () => ann.typing().length === 3 && bob.typing().length === 3,
        () => [ann.typing(), bob.typing()],
      );
      // Each node's own events go out at once; the other's come through Redis.
      expect([...ann.typing()].sort()).toEqual(["ann typing", "bob stopped", "bob typing"]);
      expect([...bob.typing()].sort()).toEqual(["ann typing", "bob stopped", "bob typing"]);
      expect(ann.typing().indexOf("bob typing")).toBeLessThan(ann.typing().indexOf("bob stopped"));
      // Nothing echoes back and forth.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ann.typing()).toHaveLength(3);
      expect(bob.typing()).toHaveLength(3);
    });

    it("removes the members of a node whose heartbeats stop, on the others, as leaves", async () => {
      const a = node("node-a", "?node_ttl_ms=600");
      const doomed = node("node-d", "?node_ttl_ms=600");
      const ann = watch(a.hub, "vigil", "ann");
      await until(
        () => ready(ann),
        () => ann.events.length,
      );
      watch(doomed.hub, "vigil", "dan");
      await until(
        () => ann.presence().length === 1,
        () => ann.presence(),
      );
      // Node D falls silent without a goodbye, as after kill -9: its command
      // connection is cut, and a password set meanwhile keeps it from coming
      // back (node A's connections, already authenticated, carry on).
      const doomedId = clientId("node-d:store") as string;
      redis.cli("CONFIG", "SET", "requirepass", "sealed");
      const unseal = () =>
        execFileSync(
          "redis-cli",
          ["-p", String(redis.port), "-a", "sealed", "--no-auth-warning"].concat([
            "CONFIG",
            "SET",
            "requirepass",
            "",
          ]),
        );
      try {
        execFileSync("redis-cli", [
          "-p",
          String(redis.port),
          "-a",
          "sealed",
          "--no-auth-warning",
          "CLIENT",
          "KILL",
          "ID",
          doomedId,
        ]);
        await until(
          () => ann.presence().length === 2,
          () => ann.presence(),
        );
        expect(ann.presence()).toEqual(["join dan", "leave dan"]);
        expect(a.hub.members("vigil").map((m) => m.author)).toEqual(["ann"]);
      } finally {
        unseal();
      }
      // Back again, node D finds itself given up for dead and announces Dan anew.
      await until(
        () => ann.presence().length === 3,
        () => ann.presence(),
      );
      expect(ann.presence()).toEqual(["join dan", "leave dan", "join dan"]);
      expect(a.hub.members("vigil").map((m) => m.author)).toEqual(["ann", "dan"]);
    });
  },
);
