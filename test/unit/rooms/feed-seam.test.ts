import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { endOfSignal } from "../../../src/calls/call-end.js";
import { RoomHub } from "../../../src/rooms/room-hub.js";
import type { StreamRequest } from "../../../src/rooms/room-stream.js";
import { RecordingSink, settle } from "../../helpers/recording-sink.js";
import { ScriptedLog } from "../../helpers/scripted-log.js";

// RoomHub.feed against a store whose every call waits for the test: each
// test fixes one interleaving of history reads, live appends and a full
// consumer, and asserts exactly what the subscriber receives, batch by batch.

const ROOM = "r";
let log: ScriptedLog;
let hub: RoomHub;
const stops: AbortController[] = [];

beforeEach(() => {
  log = new ScriptedLog();
  // No heartbeat within a test: the only events are the ones the test makes.
  hub = new RoomHub(log, { heartbeatMs: 3_600_000, maxEvents: 100, maxBytes: 1 << 20 });
});
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
  hub.close();
});

function feed(request: Partial<StreamRequest> = {}): RecordingSink {
  const sink = new RecordingSink();
  const stop = new AbortController();
  stops.push(stop);
  hub.feed(
    ROOM,
    { author: "ann", epoch: "", sinceSeq: undefined, ...request },
    endOfSignal(stop.signal),
    sink,
  );
  return sink;
}

/** Start an append through the hub and let the store take it; resolves to its seq once published. */
async function append(text: string): Promise<number> {
  const done = hub.append(ROOM, { author: "bob", text, clientMessageId: "" });
  (await log.next("append")).release();
  return (await done).message.seq;
}

/** Let the pending head (or read) run, then let the feed act on it. */
async function release(kind: "head" | "read") {
  const call = await log.next(kind);
  call.release();
  await settle();
  return call;
}

describe("the history/live seam", () => {
  it("a message appended while history is read is delivered once, after the history", async () => {
    log.insert(ROOM, "m1", "m2", "m3");
    const sink = feed({ sinceSeq: 0 });
    await release("head");
    // The history read (1..3) is now pending; a live message arrives.
    const read = await log.next("read");
    expect(read.range).toEqual({ afterSeq: 0, beforeSeq: 4, limit: 500, newest: false });
    expect(await append("m4")).toBe(4);
    await settle();
    expect(sink.shapes).toEqual([["ready"]]);
    read.release();
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1, 2, 3], [4]]);
    expect(log.waiting).toEqual([]);
  });

  it("a message stored before the head is read and also queued live is delivered once", async () => {
    log.insert(ROOM, "m1", "m2", "m3");
    const sink = feed({ sinceSeq: 0 });
    // Attached, head not yet read: m4 is stored and published (queued for
    // this subscriber), and the head then counts it, so history covers it too.
    expect(await append("m4")).toBe(4);
    await release("head");
    const read = await release("read");
    expect(read.range).toEqual({ afterSeq: 0, beforeSeq: 5, limit: 500, newest: false });
    expect(sink.shapes).toEqual([["ready"], [1, 2, 3, 4]]);
    expect(await append("m5")).toBe(5);
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1, 2, 3, 4], [5]]);
  });

  it("history longer than a page is read page by page, then live follows", async () => {
    log.insert(ROOM, ...Array.from({ length: 501 }, (_, i) => `m${i + 1}`));
    const sink = feed({ sinceSeq: 0 });
    await release("head");
    const first = await log.next("read");
    expect(await append("m502")).toBe(502);
    first.release();
    await settle();
    const second = await release("read");
    expect(second.range).toEqual({ afterSeq: 500, beforeSeq: 502, limit: 500, newest: false });
    expect(sink.shapes.map((b) => [b[0], b.at(-1), b.length])).toEqual([
      ["ready", "ready", 1],
      [1, 500, 500],
      [501, 501, 1],
      [502, 502, 1],
    ]);
  });
});

describe("gap fill", () => {
  it("a live message beyond the next seq waits for the missing range, read from the store", async () => {
    log.insert(ROOM, "m1", "m2", "m3");
    const sink = feed({ sinceSeq: 0 });
    await release("head");
    await release("read");
    // Another process sharing the store appends 4 (nothing published here);
    // this process then appends 5 and publishes it.
    log.insert(ROOM, "m4 from elsewhere");
    expect(await append("m5")).toBe(5);
    await settle();
    const gap = await log.next("read");
    expect(gap.range).toEqual({ afterSeq: 3, beforeSeq: 5, limit: 500, newest: false });
    expect(sink.shapes).toEqual([["ready"], [1, 2, 3]]);
    gap.release();
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1, 2, 3], [4], [5]]);
  });

  it("what came before the gap in the same batch goes first, then the gap, then the rest", async () => {
    const sink = feed({ sinceSeq: 0 });
    await release("head");
    // 1 and 3 are published in one turn, with 2 stored by another process between them.
    const first = hub.append(ROOM, { author: "bob", text: "m1", clientMessageId: "" });
    const third = hub.append(ROOM, { author: "bob", text: "m3", clientMessageId: "" });
    (await log.next("append")).release();
    log.insert(ROOM, "m2 from elsewhere");
    (await log.next("append")).release();
    expect([(await first).message.seq, (await third).message.seq]).toEqual([1, 3]);
    await settle();
    const gap = await log.next("read");
    expect(gap.range).toEqual({ afterSeq: 1, beforeSeq: 3, limit: 500, newest: false });
    expect(sink.shapes).toEqual([["ready"], [1]]);
    gap.release();
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1], [2], [3]]);
  });
});

describe("pump re-entry", () => {
  it("events that arrive while a delivery waits for drained() wait too, then go in one batch, in order", async () => {
    const sink = feed();
    await release("head");
    expect(sink.shapes).toEqual([["ready"]]);
    sink.full = true;
    await append("m1");
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1]]);
    expect(sink.drainWaiters).toBe(1);
    // The subscription wakes the pump for each of these; it must not deliver
    // past a consumer that said it is full.
    await append("m2");
    await settle();
    await append("m3");
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1]]);
    sink.drain();
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1], [2, 3]]);
    await append("m4");
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1], [2, 3], [4]]);
  });

  it("live messages that arrive while a history page waits for drained() follow it, once each", async () => {
    log.insert(ROOM, "m1", "m2");
    const sink = feed({ sinceSeq: 0 });
    await release("head");
    sink.full = true;
    await release("read");
    expect(sink.shapes).toEqual([["ready"], [1, 2]]);
    await append("m3");
    await append("m4");
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1, 2]]);
    sink.drain();
    await settle();
    expect(sink.shapes).toEqual([["ready"], [1, 2], [3, 4]]);
  });
});
