import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ListRoomsRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import { listRooms } from "../../../src/chat/presence.js";
import { createLogger } from "../../../src/logger.js";
import { RoomHub } from "../../../src/rooms/room-hub.js";
import type { ReadRange } from "../../../src/store/message-log.js";
import { roomKeys } from "../../../src/store/redis-keys.js";
import { RedisLog } from "../../../src/store/redis-log.js";
import { parseRedisTarget } from "../../../src/store/redis-target.js";
import { type Feed, feed, isReady, until } from "../../helpers/hub-feed.js";
import {
  redisTestsCanRun,
  startRedisCluster,
  type TestRedisCluster,
} from "../../helpers/redis-server.js";
import { eventually } from "../../helpers/room-watcher.js";
import { range } from "../../helpers/streams.js";
import { describeMessageLog } from "../../unit/store/message-log-suite.js";
import { describePeople } from "../../unit/store/people-suite.js";

const ALL: ReadRange = { afterSeq: 0, beforeSeq: 0, limit: 100_000, newest: false };
const ROOMS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];

// Needs redis-server and redis-cli: this file makes its own three-master cluster on free ports.
describe.runIf(redisTestsCanRun("RedisLog on a Redis Cluster"))(
  "Redis Cluster, three masters",
  () => {
    let cluster: TestRedisCluster;
    const logs: RedisLog[] = [];
    const hubs: RoomHub[] = [];
    const feeds: Feed[] = [];

    beforeAll(async () => {
      cluster = await startRedisCluster(3);
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    function open(retention: number, connectionName?: string): RedisLog {
      for (const m of cluster.masters) m.cli("FLUSHALL");
      const log = new RedisLog({
        retention,
        target: parseRedisTarget(cluster.url),
        logger: createLogger("silent"),
        connectionName,
      });
      return log;
    }

    describeMessageLog("RedisLog (cluster)", (retention) => open(retention));
    // A user's memberships and a conversation's record sit on different
    // masters: every step keeps to one slot, and PUBLISH reaches every node.
    describePeople("RedisLog (cluster)", () => open(10), {
      again: () =>
        new RedisLog({
          retention: 10,
          target: parseRedisTarget(cluster.url),
          logger: createLogger("silent"),
        }),
      shared: true,
    });

    it("reads the persistence settings of every master", async () => {
      const log = open(10);
      logs.push(log);
      const risks = await log.checkDurability();
      expect(risks.sort()).toEqual(
        cluster.masters
          .map(
            (m) =>
              `127.0.0.1:${m.port}: appendonly is no: messages acknowledged since the last RDB snapshot are lost if Redis stops or crashes; set appendonly yes and appendfsync always`,
          )
          .sort(),
      );
      await log.close();
      logs.splice(0);
    });

    describe("live delivery across two processes", () => {
      afterEach(async () => {
        for (const f of feeds.splice(0)) f.stop();
        for (const h of hubs.splice(0)) h.close();
        for (const l of logs.splice(0)) await l.close();
      });

      function node(name: string): { hub: RoomHub; log: RedisLog } {
        const log = open(10_000, name);
        const hub = new RoomHub(log, {
          heartbeatMs: 60_000,
          maxEvents: 100_000,
          maxBytes: 1 << 26,
        });
        logs.push(log);
        hubs.push(hub);
        return { hub, log };
      }

      it("lists and counts one process's members, rooms on every master, on the process without subscribers", async () => {
        for (const m of cluster.masters) m.cli("FLUSHALL");
        const target = parseRedisTarget(`${cluster.url}?node_ttl_ms=1500`);
        const [a, b] = ["node-a", "node-b"].map((connectionName) => {
          const log = new RedisLog({
            retention: 100,
            target,
            logger: createLogger("silent"),
            connectionName,
          });
          const hub = new RoomHub(log, { heartbeatMs: 60_000, maxEvents: 1000, maxBytes: 1 << 20 });
          logs.push(log);
          hubs.push(hub);
          return { log, hub };
        }) as [{ log: RedisLog; hub: RoomHub }, { log: RedisLog; hub: RoomHub }];
        const watchers = ROOMS.map((room) => feed(a.hub, room, `w-${room}`));
        feeds.push(...watchers);
        await until(
          () => watchers.every(isReady),
          () => watchers.map((f) => f.events.length),
        );
        await a.hub.append("charlie", { author: "s", text: "hi", clientMessageId: "" });
        const page = async (afterRoom: string, limit: number) =>
          (
            await listRooms(b.hub, b.log, create(ListRoomsRequestSchema, { afterRoom, limit }))
          ).rooms.map((r) => [r.room, r.memberCount, Number(r.lastSeq)]);
        const expected = ROOMS.map((room) => [room, 1, room === "charlie" ? 1 : 0]);
        await eventually(
          async () => (await page("", 0)).length === ROOMS.length,
          () => page("", 0),
        );
        expect(await page("", 0)).toEqual(expected);
        // Two at a time: every page reads each process's member rooms after the cursor.
        expect([
          ...(await page("", 2)),
          ...(await page("bravo", 2)),
          ...(await page("delta", 2)),
        ]).toEqual(expected);
        for (const room of ROOMS)
          expect((await b.hub.listMembers(room)).map((m) => m.author)).toEqual([`w-${room}`]);
      });

      it("keeps every room's promises with rooms on every master, across a killed sharded subscriber", async () => {
        const a = node("node-a");
        const b = node("node-b");
        const subs = ROOMS.flatMap((room) =>
          [a, b].map(({ hub }) => ({ room, f: feed(hub, room) })),
        );
        feeds.push(...subs.map((s) => s.f));
        await until(
          () => subs.every((s) => isReady(s.f)),
          () => subs.map((s) => s.f.events.length),
        );
        const send = (room: string, n: number) =>
          (n % 2 === 0 ? a : b).hub.append(room, {
            author: "s",
            text: `${room}-${n}`,
            clientMessageId: "",
          });

        // Racing senders on both nodes, every room at once.
        await Promise.all(ROOMS.flatMap((room) => range(1, 20).map((n) => send(room, n))));
        // Kill every sharded subscriber connection on every master, then send more at once.
        for (const m of cluster.masters) m.cli("CLIENT", "KILL", "TYPE", "pubsub");
        await Promise.all(ROOMS.flatMap((room) => range(21, 25).map((n) => send(room, n))));

        for (const room of ROOMS) {
          const stored = (await a.log.read(room, ALL)).map((m) => [m.seq, m.text]);
          expect(stored.map(([seq]) => seq)).toEqual(range(1, 25));
          for (const s of subs.filter((x) => x.room === room)) {
            await until(
              () => s.f.messages().length >= 25,
              () => [room, s.f.messages().map(([seq]) => seq)],
            );
            expect(s.f.messages()).toEqual(stored);
          }
        }
        // The rooms really are spread: every master owns some of them (the
        // others answer MOVED).
        const owned = cluster.masters.map(
          (m) => ROOMS.filter((room) => m.cli("EXISTS", roomKeys(room).meta) === "1").length,
        );
        expect(owned.every((n) => n > 0)).toBe(true);
        expect(owned.reduce((x, y) => x + y)).toBe(ROOMS.length);
      });
    });
  },
);
