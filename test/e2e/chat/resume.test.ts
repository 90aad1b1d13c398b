import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { messageSeqs, range } from "../../helpers/streams.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

const SENDERS = 8;
const PER_SENDER = 100;
const TOTAL = SENDERS * PER_SENDER;
const SUBSCRIBERS = 12;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

const sqliteDir = join(tmpdir(), `parley-resume-${process.pid}`);
const stores = [
  ["memory", "memory:"],
  ["sqlite", `sqlite:${join(sqliteDir, "resume.db")}`],
] as const;

describe.each(stores)("resume at random points while senders post (%s store)", (_name, store) => {
  let server: ParleyServer;
  beforeAll(async () => {
    server = await startTestServer({ store });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(sqliteDir, { recursive: true, force: true });
  });

  it("every subscriber sees every seq after its resume point exactly once, in order", async () => {
    const room = "busy";
    const random = rng(42);
    const sender = chatClient(server.url, "connect-h2");
    let sent = 0;
    const senders = Array.from({ length: SENDERS }, async (_, s) => {
      for (let i = 0; i < PER_SENDER; i++) {
        await sender.send({ room, author: `s${s}`, text: `m${i}` });
        sent++;
      }
    });

    // A subscriber starts once `sent` passes its threshold, from a since_seq
    // picked between 0 and the head it sees then (or live), and half of them
    // disconnect part-way and resume from the last seq they received.
    const subscribers = Array.from({ length: SUBSCRIBERS }, async (_, n) => {
      const startAfter = Math.floor(random() * TOTAL * 0.8);
      const live = n % 4 === 0;
      const reconnectAt = n % 2 === 1 ? Math.floor(random() * TOTAL) : undefined;
      const pick = random();
      while (sent < startAfter) await new Promise((r) => setTimeout(r, 2));
      const client = chatClient(server.url, n % 3 === 0 ? "grpc-h2" : "connect-h2");
      const head = Number((await client.history({ room, limit: 1 })).lastSeq);
      const since = live ? undefined : Math.floor(pick * (head + 1));

      const seen: number[] = [];
      let liveStart: number | undefined;
      let resumeFrom: number | undefined = since;
      let reconnected = false;
      while (seen.at(-1) !== TOTAL) {
        const abort = new AbortController();
        const stream = client.subscribe(
          { room, ...(resumeFrom === undefined ? {} : { sinceSeq: BigInt(resumeFrom) }) },
          { signal: abort.signal },
        );
        try {
          for await (const res of stream) {
            for (const e of res.events) {
              if (e.event.case === "ready" && liveStart === undefined) {
                liveStart = Number(e.event.value.lastSeq);
              }
            }
            seen.push(...messageSeqs(res.events));
            if (seen.at(-1) === TOTAL) break;
            if (!reconnected && reconnectAt !== undefined && (seen.at(-1) ?? 0) >= reconnectAt) {
              reconnected = true;
              break;
            }
          }
        } finally {
          abort.abort();
        }
        resumeFrom = seen.at(-1) ?? resumeFrom ?? liveStart;
      }
      const first = (since ?? liveStart ?? 0) + 1;
      expect(seen).toEqual(range(first, TOTAL));
      return seen.length;
    });

    await Promise.all(senders);
    const counts = await Promise.all(subscribers);
    expect(counts).toHaveLength(SUBSCRIBERS);
    const history = await sender.history({ room, limit: 1 });
    expect(history.lastSeq).toBe(BigInt(TOTAL));
  });
});
