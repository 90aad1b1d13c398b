import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/logger.js";
import { conversationKey } from "../../../src/store/redis-keys.js";
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

  describe("opening a conversation in steps", () => {
    it("finishes an opening a node left half-done, then keeps the conversation as it is", async () => {
      const log = open(10);
      try {
        const people = log.people;
        const c = { id: "dm.half", participants: ["ann", "bo", "cy"], createdAtMs: 1_700_000_000 };
        // A node died after Ann joined and the record was stored, before the others joined.
        await people.join("ann", c.id, 0, 10);
        redis.cli(
          "HSET",
          conversationKey(c.id),
          "p",
          JSON.stringify(c.participants),
          "at",
          "1700000000",
        );
        expect(await people.conversation(c.id)).toEqual(c);
        const finished = await people.openConversation({ ...c, createdAtMs: 5 }, "bo", 9, 10);
        expect(finished).toMatchObject({
          conversation: c,
          created: false,
          joined: [
            { user: "bo", membership: { room: c.id, joinedSeq: 0, readSeq: 0 } },
            { user: "cy", membership: { room: c.id, joinedSeq: 0, readSeq: 0 } },
          ],
        });
        expect(redis.cli("HGET", conversationKey(c.id), "done")).toBe("1");
        // Complete now: one who left stays out when another opens it.
        expect(await people.leave("cy", c.id)).toBe(true);
        expect(await people.openConversation(c, "ann", 3, 10)).toEqual({
          conversation: c,
          created: false,
          joined: [],
        });
        expect(await people.membership("cy", c.id)).toBeUndefined();
      } finally {
        await log.close();
      }
    });
  });
});
