import { createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { startTestServer, transportFor } from "../../helpers/test-server.js";

// A node whose Redis is down answers every call UNAVAILABLE; its health
// says so, so that a balancer sends the calls to other nodes, and says
// SERVING again by itself once Redis is back.

/** Poll `read` every 50 ms until it gives `want`; fail with the last value after 15 s. */
async function until<T>(read: () => Promise<T>, want: T): Promise<void> {
  let last: T | undefined;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
    last = await read();
    if (last === want) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${String(want)}; last seen ${String(last)}`);
}

describe.runIf(redisTestsCanRun("Redis health tests"))("health on a Redis store", () => {
  let redis: TestRedis | undefined;
  let server: ParleyServer | undefined;
  afterEach(async () => {
    await server?.stop();
    await redis?.stop();
  });

  it("is NOT_SERVING (gRPC Check and Watch, /healthz 503) while Redis is down, and SERVING again once it is back", async () => {
    redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    server = await startTestServer({ store: redis.url });
    const health = createClient(Health, transportFor("grpc-h2", server.url));
    const check = async () => Status[(await health.check({ service: "" })).status];
    const healthz = async () => {
      const res = await fetch(`${server?.url}/healthz`);
      return `${res.status} ${(await res.text()).trim()}`;
    };

    const stopWatch = new AbortController();
    const watched: string[] = [];
    const watching = (async () => {
      for await (const r of health.watch(
        { service: "chat.v1.ChatService" },
        { signal: stopWatch.signal },
      )) {
        watched.push(Status[r.status]);
      }
    })().catch(() => undefined);

    expect(await check()).toBe("SERVING");
    expect(await healthz()).toBe("200 ok");

    await redis.kill();
    await until(check, "NOT_SERVING");
    expect(await healthz()).toBe("503 message store unreachable");
    await until(async () => watched.join(" "), "SERVING NOT_SERVING");

    await redis.restart();
    await until(check, "SERVING");
    expect(await healthz()).toBe("200 ok");
    await until(async () => watched.join(" "), "SERVING NOT_SERVING SERVING");

    stopWatch.abort();
    await watching;
  });
});
