import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Member } from "../../../gen/chat/v1/chat_pb.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { eventually, type RoomWatcher, watchRoom } from "../../helpers/room-watcher.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";

/** Heartbeat TTL of the nodes here: a node silent this long is taken for dead. */
const NODE_TTL_MS = 1500;

const pair = (m: Pick<Member, "memberId" | "author">) => [m.memberId, m.author];
const readyOf = (w: RoomWatcher) => w.ready?.members.map(pair);
const idOf = (w: RoomWatcher) => w.ready?.memberId as string;

// Needs redis-server: this file starts its own on a free port (never the shared 6379).
describe.runIf(redisTestsCanRun("presence across Parley nodes"))(
  "presence across two Parley processes on one Redis (issue 19 point 7)",
  () => {
    let redis: TestRedis;
    let nodeA: SpawnedServer;
    let nodeB: SpawnedServer;

    beforeAll(async () => {
      redis = await startRedis();
      const args = ["--port", "0", "--host", "127.0.0.1", "--store"];
      const store = `${redis.url}?node_ttl_ms=${NODE_TTL_MS}`;
      // One after the other: two tsx starts at once can take long on a busy machine.
      nodeA = await spawnServer([...args, store]);
      nodeB = await spawnServer([...args, store]);
    }, 60_000);
    afterAll(async () => {
      for (const n of [nodeA, nodeB]) {
        if (n === undefined) continue;
        if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL");
        await n.exited;
      }
      await redis?.stop();
    });

    const members = async (url: string, room: string) =>
      (await chatClient(url).listMembers({ room })).members.map(pair);
    const rooms = async (url: string) =>
      (await chatClient(url).listRooms({})).rooms.map((r) => [
        r.room,
        r.memberCount,
        Number(r.lastSeq),
      ]);
    const ready = (...ws: RoomWatcher[]) =>
      eventually(
        () => ws.every((w) => w.ready !== undefined),
        () => ws.map((w) => String(w.ended ?? "")),
      );

    it("a node with no subscriber of its own lists the other node's members: ListMembers, its first subscriber's Ready, member_count; and a leave", async () => {
      await chatClient(nodeA.url).send({ room: "hall", author: "ann", text: "hello" });
      const ann = watchRoom(nodeA.url, "hall", "ann");
      const cy = watchRoom(nodeA.url, "lounge", "cy"); // a room without messages
      await ready(ann, cy);
      // Node A announces its subscribers to Redis in the background.
      await eventually(
        async () => (await members(nodeB.url, "lounge")).length > 0,
        () => "lounge empty on node B",
      );
      await eventually(
        async () => (await members(nodeB.url, "hall")).length > 0,
        () => "hall empty on node B",
      );
      expect(await members(nodeB.url, "hall")).toEqual([[idOf(ann), "ann"]]);
      expect(await members(nodeB.url, "lounge")).toEqual([[idOf(cy), "cy"]]);
      expect(await rooms(nodeB.url)).toEqual([
        ["hall", 1, 1],
        ["lounge", 1, 0],
      ]);

      // Node B's first subscriber in hall finds Ann in its Ready, not as a join after it.
      const bob = watchRoom(nodeB.url, "hall", "bob");
      await ready(bob);
      expect(readyOf(bob)).toEqual([
        [idOf(bob), "bob"],
        [idOf(ann), "ann"],
      ]);
      await eventually(
        () => ann.presence.length === 1,
        () => ann.presence,
      );
      expect(ann.presence).toEqual(["join bob"]);
      // Each node lists its own subscriptions first, then the other node's.
      expect(await members(nodeB.url, "hall")).toEqual([
        [idOf(bob), "bob"],
        [idOf(ann), "ann"],
      ]);
      expect(await members(nodeA.url, "hall")).toEqual([
        [idOf(ann), "ann"],
        [idOf(bob), "bob"],
      ]);
      // member_count counts every node's subscriptions, the same on both nodes.
      await eventually(
        async () => (await rooms(nodeA.url))[0]?.[1] === 2,
        () => rooms(nodeA.url),
      );
      for (const url of [nodeA.url, nodeB.url]) {
        expect(await rooms(url)).toEqual([
          ["hall", 2, 1],
          ["lounge", 1, 0],
        ]);
      }

      expect([ann.ended, bob.ended]).toEqual([undefined, undefined]);
      ann.stop();
      await eventually(
        () => bob.presence.length === 1,
        () => bob.presence,
      );
      expect(bob.presence).toEqual(["leave ann"]);
      expect(await members(nodeB.url, "hall")).toEqual([[idOf(bob), "bob"]]);
      await eventually(
        async () => (await rooms(nodeB.url))[0]?.[1] === 1,
        () => rooms(nodeB.url),
      );
      expect(await rooms(nodeB.url)).toEqual([
        ["hall", 1, 1],
        ["lounge", 1, 0],
      ]);
      bob.stop();
      await eventually(
        async () => (await members(nodeA.url, "hall")).length === 0,
        () => members(nodeA.url, "hall"),
      );
      expect(await rooms(nodeA.url)).toEqual([
        ["hall", 0, 1],
        ["lounge", 1, 0],
      ]);
    });

    it("drops the members of a node killed with -9 within node_ttl_ms and a third of it", async () => {
      const cy = watchRoom(nodeA.url, "lounge", "cy2");
      await ready(cy);
      // Cy of the first test is still there: its stream runs on.
      await eventually(
        async () => (await members(nodeB.url, "lounge")).length === 2,
        () => members(nodeB.url, "lounge"),
      );
      const eve = watchRoom(nodeB.url, "lounge", "eve");
      await ready(eve);
      expect(eve.ready?.members.map((m) => m.author)).toEqual(["eve", "cy", "cy2"]);
      const onA = await members(nodeA.url, "lounge");
      expect(onA.map(([, author]) => author)).toEqual(["cy", "cy2", "eve"]);
      expect((await members(nodeB.url, "lounge")).map(([, author]) => author)).toEqual([
        "eve",
        "cy",
        "cy2",
      ]);
      expect(await rooms(nodeB.url)).toEqual([
        ["hall", 0, 1],
        ["lounge", 3, 0],
      ]);

      nodeA.process.kill("SIGKILL");
      const killed = Date.now();
      await nodeA.exited;
      // Node B takes A for dead once A has been silent NODE_TTL_MS, at its
      // next beat (every third of it); 1.5 s more for a loaded machine.
      await eventually(
        async () => (await members(nodeB.url, "lounge")).length === 1,
        () => members(nodeB.url, "lounge"),
        NODE_TTL_MS + NODE_TTL_MS / 3 + 1500,
      );
      const gone = Date.now() - killed;
      expect(await members(nodeB.url, "lounge")).toEqual([[idOf(eve), "eve"]]);
      expect([...eve.presence].sort()).toEqual(["leave cy", "leave cy2"]);
      expect(await rooms(nodeB.url)).toEqual([
        ["hall", 0, 1],
        ["lounge", 1, 0],
      ]);
      console.info(`members of the killed node gone from node B after ${gone} ms`);
      eve.stop();
    });
  },
);
