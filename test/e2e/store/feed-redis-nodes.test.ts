import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageLog } from "../../../src/store/message-log.js";
import { openLog } from "../../../src/store/open-log.js";
import { postToRooms, ResumingFeed, seqsByRoom } from "../../helpers/feed-load.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { range } from "../../helpers/streams.js";
import { chatClient } from "../../helpers/test-server.js";
import { hsToken } from "../../helpers/tokens.js";

const SECRET = "a feed test secret of more than thirty-two bytes";
const ROOMS: Record<string, string[]> = {
  ann: ["r1", "r2", "r3"],
  bo: ["r2", "r3", "r4"],
  cy: ["r4", "r5", "r1"],
};
const ALL_ROOMS = ["r1", "r2", "r3", "r4", "r5"];
const PER_ROOM = 80;

// Needs redis-server: this file starts its own on a free port (never the shared 6379).
describe.runIf(redisTestsCanRun("the feed across three Parley nodes on one Redis"))(
  "Feed across three Parley nodes on one Redis",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-feed-redis-"));
    const secretFile = join(dir, "secret");
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    let redis: TestRedis;
    let nodes: SpawnedServer[] = [];
    /** The store as one more process sharing it sees it. */
    let peer: MessageLog;

    beforeAll(async () => {
      redis = await startRedis();
      peer = openLog(redis.url, { retention: 10_000 });
      nodes = await Promise.all(
        range(1, 3).map(() =>
          spawnServer([
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--store",
            `${redis.url}?node_ttl_ms=1500`,
            "--auth",
            "jwt",
            "--auth-secret-file",
            secretFile,
            "--user-send-rate",
            "100000",
            "--user-send-burst",
            "100000",
          ]),
        ),
      );
    }, 60_000);
    afterAll(async () => {
      for (const n of nodes) {
        if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL");
        await n.exited;
      }
      await peer?.close();
      await redis?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("each feed holds exactly its rooms' messages, once each in seq order, when its node is killed mid-stream and it resumes on another", async () => {
      for (const [user, rooms] of Object.entries(ROOMS)) {
        for (const room of rooms) await peer.people.join(user, room, 0, 1000);
      }
      const clients = nodes.map((n) => chatClient(n.url, "grpc-h2"));
      const alive = [true, true, true];
      let turn = 0;
      /** The next live node, round robin: senders spread over the nodes. */
      const anyNode = () => {
        do turn = (turn + 1) % 3;
        while (!alive[turn]);
        return clients[turn] as ReturnType<typeof chatClient>;
      };
      // Each user's feed on its own node; once node 0 dies, ann's moves to the next live one.
      const feedNode = (i: number) => () =>
        (alive[i] ? clients[i] : anyNode()) as ReturnType<typeof chatClient>;
      const tokens = Object.fromEntries(
        await Promise.all(
          [...Object.keys(ROOMS), "zed"].map(async (sub) => [sub, await hsToken(SECRET, { sub })]),
        ),
      ) as Record<string, string>;
      const users = Object.keys(ROOMS);
      const feeds = users.map((user, i) => new ResumingFeed(feedNode(i), tokens[user] as string));
      await Promise.all(feeds.map((f) => f.start()));

      // Half the messages, then another process makes ann a member of r5:
      // her feed, on node 0, hears it over Redis.
      const half = PER_ROOM / 2;
      await postToRooms(ALL_ROOMS, half, anyNode, tokens.zed as string);
      const head = await peer.head("r5");
      const ann5 = (await peer.people.join("ann", "r5", head.lastSeq, 1000)).membership.joinedSeq;
      await feeds[0]?.until((e) => e.some((x) => x.event.case === "joined"));
      // The rest, with node 0 killed mid-way: ann's feed resumes on another node.
      let sent = 0;
      await postToRooms(
        ALL_ROOMS,
        PER_ROOM,
        anyNode,
        tokens.zed as string,
        () => {
          sent++;
          if (sent === (ALL_ROOMS.length * half) / 2) {
            alive[0] = false;
            (nodes[0] as SpawnedServer).process.kill("SIGKILL");
          }
        },
        half,
      );
      const expected: Record<string, Record<string, number[]>> = {
        ann: {
          r1: range(1, PER_ROOM),
          r2: range(1, PER_ROOM),
          r3: range(1, PER_ROOM),
          r5: range(ann5 + 1, PER_ROOM),
        },
        bo: Object.fromEntries((ROOMS.bo ?? []).map((r) => [r, range(1, PER_ROOM)])),
        cy: Object.fromEntries((ROOMS.cy ?? []).map((r) => [r, range(1, PER_ROOM)])),
      };
      for (const [i, user] of users.entries()) {
        const feed = feeds[i] as ResumingFeed;
        const want = expected[user] ?? {};
        const total = Object.values(want).reduce((n, seqs) => n + seqs.length, 0);
        await feed.until((e) => e.filter((x) => x.event.case === "message").length >= total);
        feed.close();
        expect(seqsByRoom(feed.events), user).toEqual(want);
      }
      expect(feeds[0]?.streams).toBeGreaterThan(1);
      const joined = feeds[0]?.events.find((e) => e.event.case === "joined")?.event.value;
      expect(joined).toMatchObject({ room: "r5" });
    }, 120_000);
  },
);
