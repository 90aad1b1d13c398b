import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/logger.js";
import type { AppendResult, ReadRange } from "../../../src/store/message-log.js";
import { durabilityRisks } from "../../../src/store/redis-durability.js";
import { RedisLog } from "../../../src/store/redis-log.js";
import { parseRedisTarget } from "../../../src/store/redis-target.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { range } from "../../helpers/streams.js";

const ALL: ReadRange = { afterSeq: 0, beforeSeq: 0, limit: 100_000, newest: false };
const AOF_ALWAYS = ["--appendonly", "yes", "--appendfsync", "always"];

describe("durabilityRisks", () => {
  it("accepts only appendonly yes with appendfsync always, and says what each other setting risks", () => {
    expect(durabilityRisks({ appendonly: "yes", appendfsync: "always" })).toEqual([]);
    expect(durabilityRisks({ appendonly: "no", appendfsync: "always" })).toEqual([
      "appendonly is no: messages acknowledged since the last RDB snapshot are lost if Redis stops or crashes; set appendonly yes and appendfsync always",
    ]);
    expect(durabilityRisks({ appendonly: "yes", appendfsync: "everysec" })).toEqual([
      "appendfsync is everysec: about the last second (two when the disk is slow) of acknowledged messages can be lost if the machine crashes or loses power; set appendfsync always",
    ]);
    expect(durabilityRisks({ appendonly: "yes", appendfsync: "no" })).toEqual([
      "appendfsync is no: acknowledged messages the OS has not yet written can be lost if the machine crashes or loses power; set appendfsync always",
    ]);
    expect(durabilityRisks({})).toEqual([
      "appendonly is unknown: messages acknowledged since the last RDB snapshot are lost if Redis stops or crashes; set appendonly yes and appendfsync always",
    ]);
  });
});

// Needs redis-server: each test starts its own on a free port (never the shared 6379).
describe.runIf(redisTestsCanRun("Redis durability tests"))("RedisLog durability", () => {
  const servers: TestRedis[] = [];
  const logs: RedisLog[] = [];

  async function server(flags: string[] = []): Promise<TestRedis> {
    const s = await startRedis(flags);
    servers.push(s);
    return s;
  }

  function open(redis: TestRedis): RedisLog {
    const log = new RedisLog({
      retention: 100_000,
      target: parseRedisTarget(redis.url),
      logger: createLogger("silent"),
    });
    logs.push(log);
    return log;
  }

  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close();
    for (const s of servers.splice(0)) await s.stop();
  });

  it("reads the server's persistence settings and reports each risk with the server's address", async () => {
    const safe = await server(AOF_ALWAYS);
    expect(await open(safe).checkDurability()).toEqual([]);

    const everysec = await server(["--appendonly", "yes", "--appendfsync", "everysec"]);
    expect(await open(everysec).checkDurability()).toEqual([
      `127.0.0.1:${everysec.port}: appendfsync is everysec: about the last second (two when the disk is slow) of acknowledged messages can be lost if the machine crashes or loses power; set appendfsync always`,
    ]);

    const plain = await server();
    expect(await open(plain).checkDurability()).toEqual([
      `127.0.0.1:${plain.port}: appendonly is no: messages acknowledged since the last RDB snapshot are lost if Redis stops or crashes; set appendonly yes and appendfsync always`,
    ]);
  });

  it("keeps every acknowledged append when Redis (AOF always) is killed with -9 mid-stream", async () => {
    const redis = await server(AOF_ALWAYS);
    const log = open(redis);
    await log.append("kept", { author: "a", text: "first", clientMessageId: "" });
    const epoch = (await log.head("kept")).epoch;
    const acked: AppendResult[] = [];
    let failures = 0;
    // Four senders append until Redis dies under them.
    const sender = async (n: number) => {
      for (let i = 0; ; i++) {
        try {
          acked.push(
            await log.append("kept", {
              author: `s${n}`,
              text: `${n}:${i}`,
              clientMessageId: `${n}-${i}`,
            }),
          );
        } catch (error) {
          expect(ConnectError.from(error).code).toBe(Code.Unavailable);
          failures++;
          return;
        }
      }
    };
    const senders = range(1, 4).map(sender);
    while (acked.length < 300) await new Promise((resolve) => setTimeout(resolve, 5));
    await redis.kill();
    await Promise.all(senders);
    expect(failures).toBe(4);

    await redis.restart();
    const after = open(redis);
    const stored = await after.read("kept", ALL);
    const head = await after.head("kept");
    // Gapless 1..lastSeq, and every acknowledged message among them, unchanged.
    expect(head.epoch).toBe(epoch);
    expect(stored.map((m) => m.seq)).toEqual(range(1, head.lastSeq));
    const bySeq = new Map(stored.map((m) => [m.seq, m]));
    for (const r of acked) expect(bySeq.get(r.message.seq)).toEqual(r.message);
    expect(head.lastSeq).toBeGreaterThanOrEqual(acked.length);

    // A sender retrying its last acknowledged message after the crash gets the
    // original; the key with another text is refused: the key kept its payload.
    const last = acked[acked.length - 1] as AppendResult;
    const { author, text, clientMessageId } = last.message;
    const retry = await after.append("kept", { author, text, clientMessageId });
    expect(retry).toEqual({ duplicate: true, message: last.message });
    const reused = await after
      .append("kept", { author, text: "another text", clientMessageId })
      .then(() => undefined, ConnectError.from);
    expect(reused?.code).toBe(Code.AlreadyExists);
  });

  it("answers UNAVAILABLE naming the server while Redis is down, and recovers by itself", async () => {
    const redis = await server(AOF_ALWAYS);
    const log = open(redis);
    const first = await log.append("r", { author: "a", text: "before", clientMessageId: "" });
    const where = `redis 127.0.0.1:${redis.port}/0`;
    expect(log.serving()).toBe(true);
    await redis.kill();

    const failures = await Promise.allSettled([
      log.append("r", { author: "a", text: "during", clientMessageId: "k" }),
      log.head("r"),
      log.read("r", ALL),
      log.listRooms("", 10),
    ]);
    const errors = failures.map((f) => (f.status === "rejected" ? ConnectError.from(f.reason) : f));
    expect(errors.map((e) => (e instanceof ConnectError ? e.code : e))).toEqual([
      Code.Unavailable,
      Code.Unavailable,
      Code.Unavailable,
      Code.Unavailable,
    ]);
    expect(
      errors.map((e) => (e as ConnectError).rawMessage.replace(/ \([^)]*\); retry shortly$/, "")),
    ).toEqual([
      `message store unavailable: ${where} could not append to room r (it may have been stored)`,
      `message store unavailable: ${where} could not read the head of room r`,
      `message store unavailable: ${where} could not read room r`,
      `message store unavailable: ${where} could not list rooms`,
    ]);

    expect(log.serving()).toBe(false);

    await redis.restart();
    // The same RedisLog object reconnects on its own; poll until it has.
    let next: AppendResult | undefined;
    for (let attempt = 0; next === undefined && attempt < 100; attempt++) {
      next = await log
        .append("r", { author: "a", text: "after", clientMessageId: "k" })
        .catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
    }
    expect(next).toMatchObject({ duplicate: false, message: { seq: 2, text: "after" } });
    expect(log.serving()).toBe(true);
    expect((await log.read("r", ALL)).map((m) => m.text)).toEqual([first.message.text, "after"]);
  });

  it("after a Redis that lost its data (no AOF) comes back: a new epoch, seq 1, and the room listed again", async () => {
    const redis = await server();
    const log = open(redis);
    const before = await log.append("lost", { author: "a", text: "one", clientMessageId: "" });
    const oldEpoch = (await log.head("lost")).epoch;
    await redis.restart();
    let next: AppendResult | undefined;
    for (let attempt = 0; next === undefined && attempt < 100; attempt++) {
      next = await log
        .append("lost", { author: "a", text: "again", clientMessageId: "" })
        .catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
    }
    expect(before.message.seq).toBe(1);
    expect(next?.message.seq).toBe(1);
    expect((await log.head("lost")).epoch).not.toBe(oldEpoch);
    expect((await log.listRooms("", 10)).map((r) => r.room)).toEqual(["lost"]);
  });
});
