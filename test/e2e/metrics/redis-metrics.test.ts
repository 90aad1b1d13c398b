import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import { freePort } from "../../helpers/free-port.js";
import { type Sample, scrape, seriesValue } from "../../helpers/metrics-scrape.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";

// Issue 21 point 1: relay lag, store state and reconnects of a node on
// Redis, as its metrics endpoint reports them. Needs redis-server.

const MESSAGES = 5;

describe.runIf(redisTestsCanRun("the Redis metrics test"))("Redis metrics", () => {
  let redis: TestRedis;
  let sender: SpawnedServer;
  let relaying: SpawnedServer;
  let metricsUrl: string;

  beforeAll(async () => {
    redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const flags = ["--port", "0", "--host", "127.0.0.1", "--store", redis.url];
    sender = await spawnServer(flags);
    relaying = await spawnServer([...flags, "--metrics-port", String(metricsPort)]);
  }, 60_000);
  afterAll(async () => {
    for (const node of [sender, relaying]) node?.process.kill("SIGTERM");
    await Promise.all([sender?.exited, relaying?.exited]);
    await redis?.stop();
  });

  /** Scrape until `done` holds; after 15 s return the last scrape (the assertion then says what it held). */
  async function scrapeUntil(done: (s: Sample[]) => boolean): Promise<Sample[]> {
    const until = Date.now() + 15_000;
    for (;;) {
      const samples = await scrape(metricsUrl);
      if (done(samples) || Date.now() > until) return samples;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("times each relayed message, and counts Redis going away and coming back", async () => {
    const stop = new AbortController();
    const stream = chatClient(relaying.url, "grpc-h2")
      .subscribe({ room: "relayed", author: "bob" }, { signal: stop.signal })
      [Symbol.asyncIterator]();
    await stream.next();
    const send = chatClient(sender.url, "grpc-h2");
    for (let i = 0; i < MESSAGES; i++) {
      await send.send({ room: "relayed", author: "ann", text: `m${i}` });
    }
    let received = 0;
    while (received < MESSAGES) {
      const next = await stream.next();
      received +=
        next.value?.events.filter((e: RoomEvent) => e.event.case === "message").length ?? 0;
    }
    stop.abort();

    const before = await scrape(metricsUrl);
    expect({
      relayed: seriesValue(before, "parley_redis_relay_lag_seconds_count"),
      up: seriesValue(before, "parley_store_up", { engine: "redis" }),
      storeReconnects: seriesValue(before, "parley_redis_reconnects_total", {
        connection: "store",
      }),
      liveReconnects: seriesValue(before, "parley_redis_reconnects_total", { connection: "live" }),
    }).toEqual({ relayed: MESSAGES, up: 1, storeReconnects: 0, liveReconnects: 0 });
    // Redis and the nodes share this host's clock: each lag is under the 5 s bucket.
    expect(seriesValue(before, "parley_redis_relay_lag_seconds_bucket", { le: "5" })).toBe(
      MESSAGES,
    );

    await redis.kill();
    const down = await scrapeUntil(
      (s) => seriesValue(s, "parley_store_up", { engine: "redis" }) === 0,
    );
    expect(seriesValue(down, "parley_store_up", { engine: "redis" })).toBe(0);
    await redis.restart();
    const back = await scrapeUntil(
      (s) =>
        seriesValue(s, "parley_store_up", { engine: "redis" }) === 1 &&
        seriesValue(s, "parley_redis_reconnects_total", { connection: "live" }) === 1,
    );
    expect({
      up: seriesValue(back, "parley_store_up", { engine: "redis" }),
      storeReconnects: seriesValue(back, "parley_redis_reconnects_total", { connection: "store" }),
      liveReconnects: seriesValue(back, "parley_redis_reconnects_total", { connection: "live" }),
    }).toEqual({ up: 1, storeReconnects: 1, liveReconnects: 1 });
  }, 90_000);
});
