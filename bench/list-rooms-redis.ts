// ListRooms on the Redis store, asked of a node with no subscriber of its own
// while another node holds the members: 1,000 rooms with messages, 100 of
// them (and 20 rooms without messages) with a subscriber on the other node.
// Prints medians of several runs for one page of 1,000, for paging through
// every room 100 at a time, and, as the baseline measured in the same run, a
// History call (one room, one round trip to Redis); plus the Redis commands
// one ListRooms page costs. Starts its own redis-server on a free port.
// Usage: npx tsx bench/list-rooms-redis.ts [--rooms 1000] [--runs 15]
import { setMaxListeners } from "node:events";
import { parseArgs } from "node:util";
import { startRedis } from "../test/helpers/redis-server.js";
import { type SpawnedServer, spawnServer } from "../test/helpers/spawn-server.js";
import { chatClient } from "../test/helpers/test-server.js";

const { values } = parseArgs({
  options: {
    rooms: { type: "string", default: "1000" },
    runs: { type: "string", default: "15" },
  },
});
const roomCount = Number(values.rooms);
const runs = Number(values.runs);
const name = (i: number) => `room-${String(i).padStart(5, "0")}`;

const redis = await startRedis();
const nodes: SpawnedServer[] = [];
try {
  for (let i = 0; i < 2; i++)
    nodes.push(await spawnServer(["--port", "0", "--host", "127.0.0.1", "--store", redis.url]));
  const [a, b] = nodes.map((n) => chatClient(n.url)) as [
    ReturnType<typeof chatClient>,
    ReturnType<typeof chatClient>,
  ];
  for (let i = 0; i < roomCount; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(i + 100, roomCount); j++)
      batch.push(a.send({ room: name(j), author: "bench", text: "hi", clientMessageId: "" }));
    await Promise.all(batch);
  }
  // Subscribers on node A only: every 10th room, and 20 rooms without messages.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per subscription
  const subscribed = [
    ...Array.from({ length: Math.ceil(roomCount / 10) }, (_, k) => name(k * 10)),
    ...Array.from({ length: 20 }, (_, k) => `quiet-${k}`),
  ];
  await Promise.all(
    subscribed.map(async (room) => {
      const stream = a.subscribe({ room, author: "ann" }, { signal: stop.signal });
      const it = stream[Symbol.asyncIterator]();
      await it.next(); // Ready
      void (async () => {
        try {
          for (;;) if ((await it.next()).done) return;
        } catch {}
      })();
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 500)); // joins announced in the background

  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  const onePage = async () => {
    const page = await b.listRooms({ limit: 1000 });
    return page.rooms.reduce((n, r) => n + r.memberCount, 0);
  };
  const allPages = async () => {
    let after = "";
    let pages = 0;
    for (;;) {
      const page = await b.listRooms({ afterRoom: after, limit: 100 });
      pages++;
      if (!page.hasMore) return pages;
      after = page.rooms[page.rooms.length - 1]?.room ?? "";
    }
  };
  const history = () => b.history({ room: name(0), limit: 1 });
  // Warm up (connections, script loading, JIT).
  for (let i = 0; i < 3; i++) await Promise.all([onePage(), allPages(), history()]);
  const counted = await onePage();
  const pages = await allPages();
  const commands = () =>
    Number(/total_commands_processed:(\d+)/.exec(redis.cli("INFO", "stats"))?.[1]);
  const before = commands();
  await onePage();
  const perPage = commands() - before - 1; // less the INFO itself
  const t1: number[] = [];
  const tAll: number[] = [];
  const tHistory: number[] = [];
  for (let i = 0; i < runs; i++) {
    t1.push(await time(onePage));
    tAll.push(await time(allPages));
    tHistory.push(await time(history));
  }
  const base = median(tHistory);
  const fmt = (ms: number) => `${ms.toFixed(2)} ms (${(ms / base).toFixed(1)}x History)`;
  console.log(
    `ListRooms on node B of 2 (Redis), ${roomCount} rooms with messages, ${subscribed.length} with a subscriber on node A; ${runs} runs, medians:`,
  );
  console.log(`  one page of 1000: ${fmt(median(t1))}; member_count sum seen on B: ${counted}`);
  console.log(`  every room, 100 a page (${pages} pages): ${fmt(median(tAll))}`);
  console.log(`  baseline History(limit 1): ${base.toFixed(2)} ms`);
  console.log(`  Redis commands for one page of 1000: ${perPage}`);
  stop.abort();
} finally {
  for (const n of nodes) n.process.kill("SIGKILL");
  await Promise.all(nodes.map((n) => n.exited));
  await redis.stop();
}
