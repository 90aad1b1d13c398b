import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openLog } from "../../../src/store/open-log.js";
import { postToRooms, ResumingFeed, seqsByRoom } from "../../helpers/feed-load.js";
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

describe("Feed through a kill -9 of a server on SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-feed-kill-"));
  const db = join(dir, "parley.db");
  const secretFile = join(dir, "secret");
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const servers: SpawnedServer[] = [];
  afterAll(async () => {
    for (const s of servers) {
      if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill("SIGKILL");
      await s.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    const server = await spawnServer([
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--store",
      `sqlite:${db}`,
      "--auth",
      "jwt",
      "--auth-secret-file",
      secretFile,
      "--user-send-rate",
      "100000",
      "--user-send-burst",
      "100000",
    ]);
    servers.push(server);
    return server;
  };

  it("each user's feed holds exactly its rooms' messages, once each in seq order, resumed with the last cursor after the restart", async () => {
    // Memberships straight in the file before the server owns it (until JoinRoom is served).
    const setup = openLog(`sqlite:${db}`, { retention: 10_000 });
    for (const [user, rooms] of Object.entries(ROOMS)) {
      for (const room of rooms) await setup.people.join(user, room, 0, 1000);
    }
    await setup.close();

    let server = await start();
    let client = chatClient(server.url, "grpc-h2");
    const target = () => client;
    const tokens = Object.fromEntries(
      await Promise.all(
        [...Object.keys(ROOMS), "zed"].map(async (sub) => [sub, await hsToken(SECRET, { sub })]),
      ),
    ) as Record<string, string>;
    const feeds = Object.keys(ROOMS).map(
      (user) => new ResumingFeed(target, tokens[user] as string),
    );
    await Promise.all(feeds.map((f) => f.start()));

    let sent = 0;
    let killed: Promise<void> | undefined;
    const posting = postToRooms(ALL_ROOMS, PER_ROOM, target, tokens.zed as string, () => {
      sent++;
      // Mid-way, with Sends in flight and the feeds streaming: kill -9, then start again on the file.
      if (sent === (ALL_ROOMS.length * PER_ROOM) / 2) {
        killed = (async () => {
          server.process.kill("SIGKILL");
          await server.exited;
          server = await start();
          client = chatClient(server.url, "grpc-h2");
        })();
      }
    });
    await posting;
    await killed;
    for (const [i, user] of Object.keys(ROOMS).entries()) {
      const feed = feeds[i] as ResumingFeed;
      const mine = ROOMS[user] ?? [];
      await feed.until(
        (e) => e.filter((x) => x.event.case === "message").length >= mine.length * PER_ROOM,
      );
      feed.close();
      const byRoom = seqsByRoom(feed.events);
      expect(Object.keys(byRoom).sort(), user).toEqual([...mine].sort());
      for (const room of mine) expect(byRoom[room], `${user} ${room}`).toEqual(range(1, PER_ROOM));
      // It did resume: a second stream, whose first event is ready.
      expect(feed.streams, user).toBeGreaterThan(1);
    }
  }, 120_000);
});
