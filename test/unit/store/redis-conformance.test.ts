import { afterAll, beforeAll, describe } from "vitest";
import { createLogger } from "../../../src/logger.js";
import { RedisLog } from "../../../src/store/redis-log.js";
import { parseRedisTarget } from "../../../src/store/redis-target.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { describeGuestNames } from "./guest-names-suite.js";
import { describeMessageLog } from "./message-log-suite.js";
import { describePeople } from "./people-suite.js";

// Needs redis-server: this file starts its own on a free port (never the shared 6379).
describe.runIf(redisTestsCanRun("RedisLog conformance"))("RedisLog on redis-server", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  function open(retention: number): RedisLog {
    // A fresh, empty store each time: one server per file, emptied per test.
    redis.cli("FLUSHALL");
    return another(retention);
  }

  /** Another RedisLog on the same server and data, as another node opens it. */
  function another(retention: number): RedisLog {
    return new RedisLog({
      retention,
      target: parseRedisTarget(redis.url),
      // This server runs without AOF on purpose: no durability warning per test.
      logger: createLogger("silent"),
    });
  }

  describeMessageLog("RedisLog", open);
  describeGuestNames("RedisLog", () => open(10));
  describePeople("RedisLog", () => open(10), { again: () => another(10), shared: true });
});
