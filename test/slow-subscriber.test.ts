import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RoomEvent } from "../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../src/server/parley-server.js";
import { messageSeqs, range, readUntil } from "./helpers/streams.js";
import { chatClient, startTestServer } from "./helpers/test-server.js";

const MESSAGES = 2000;
const TEXT = "x".repeat(400);

let server: ParleyServer;
beforeAll(async () => {
  // A queue well above the sender's bursts of 25 but far below the 2000
  // messages (~900 KB) a stalled reader would have to buffer.
  server = await startTestServer({ queueEvents: 100, queueBytes: 256 * 1024 });
});
afterAll(() => server.stop());

it("a stalled subscriber is cut off with RESOURCE_EXHAUSTED, resumes, and loses nothing; others are unaffected", async () => {
  const room = "firehose";
  // Separate clients: separate HTTP/2 connections, so the stalled stream's
  // flow-control window cannot hold up the fast one.
  const slowClient = chatClient(server.url, "connect-h2");
  const fastClient = chatClient(server.url, "grpc-h2");
  const sender = chatClient(server.url, "connect-h2");

  const slowAbort = new AbortController();
  const slow = slowClient
    .subscribe({ room, sinceSeq: 0n }, { signal: slowAbort.signal })
    [Symbol.asyncIterator]();
  const slowStart = await readUntil(slow, (seen) => seen.length >= 1);
  expect(slowStart[0]?.event.case).toBe("ready");

  const fastAbort = new AbortController();
  const fast = (async () => {
    const seen: number[] = [];
    for await (const res of fastClient.subscribe(
      { room, sinceSeq: 0n },
      { signal: fastAbort.signal },
    )) {
      seen.push(...messageSeqs(res.events));
      if (seen.length >= MESSAGES) break;
    }
    return seen;
  })();

  // The slow subscriber reads nothing while all messages are sent.
  for (let i = 0; i < MESSAGES; i += 25) {
    await Promise.all(
      range(i, Math.min(i + 24, MESSAGES - 1)).map((n) =>
        sender.send({ room, author: "pump", text: `${n} ${TEXT}` }),
      ),
    );
  }
  expect(await fast).toEqual(range(1, MESSAGES));

  // Now it reads: what was buffered before the cut, then the error.
  const received: RoomEvent[] = [];
  const failure = await (async () => {
    try {
      for (;;) {
        const next = await slow.next();
        if (next.done) return undefined;
        received.push(...next.value.events);
      }
    } catch (e) {
      return ConnectError.from(e);
    }
  })();
  expect(failure?.code).toBe(Code.ResourceExhausted);
  expect(failure?.rawMessage).toMatch(/too slow.*resume with since_seq/);
  const before = messageSeqs(received);
  expect(before).toEqual(range(1, before.length));
  expect(before.length).toBeLessThan(MESSAGES);

  // Resuming from the last seq received delivers the rest exactly once.
  const last = before.at(-1) ?? 0;
  const rest: number[] = [];
  for await (const res of slowClient.subscribe(
    { room, sinceSeq: BigInt(last) },
    { signal: slowAbort.signal },
  )) {
    rest.push(...messageSeqs(res.events));
    if (rest.at(-1) === MESSAGES) break;
  }
  expect([...before, ...rest]).toEqual(range(1, MESSAGES));
  slowAbort.abort();
  fastAbort.abort();
});
