import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ResumeErrorSchema } from "../../../gen/chat/v1/chat_pb.js";
import { endOfSignal } from "../../../src/calls/call-end.js";
import { RoomHub } from "../../../src/rooms/room-hub.js";
import type { StreamRequest } from "../../../src/rooms/room-stream.js";
import { RecordingSink, settle } from "../../helpers/recording-sink.js";
import { ScriptedLog } from "../../helpers/scripted-log.js";

// A resume the log cannot serve without a hole ends the feed with a precise
// code, message and ResumeError detail, and delivers nothing it cannot
// stand behind; the subscriber leaves the room.

const ROOM = "r";
let log: ScriptedLog;
let hub: RoomHub;
const stops: AbortController[] = [];

beforeEach(() => {
  log = new ScriptedLog("epoch-1");
  hub = new RoomHub(log, { heartbeatMs: 3_600_000, maxEvents: 100, maxBytes: 1 << 20 });
});
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
  hub.close();
});

function feed(request: Partial<StreamRequest>): RecordingSink {
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

/** How the feed ended: code, message and the ResumeError detail as plain values. */
function ending(sink: RecordingSink) {
  expect(sink.endCalls).toBe(1);
  const error = sink.ended?.reason;
  expect(error).toBeInstanceOf(ConnectError);
  const e = error as ConnectError;
  const detail = e.findDetails(ResumeErrorSchema)[0];
  return {
    code: Code[e.code],
    message: e.rawMessage,
    detail: detail && [detail.epoch, detail.firstSeq, detail.lastSeq],
  };
}

async function releaseHead() {
  (await log.next("head")).release();
  await settle();
}

it("since_seq beyond the room's last seq: OUT_OF_RANGE, nothing delivered", async () => {
  log.insert(ROOM, "m1", "m2", "m3");
  const sink = feed({ sinceSeq: 4 });
  await releaseHead();
  expect(ending(sink)).toEqual({
    code: "OutOfRange",
    message: 'since_seq 4 is ahead of room "r": its last seq is 3',
    detail: ["epoch-1", 1n, 3n],
  });
  expect(sink.shapes).toEqual([]);
  expect(hub.members(ROOM)).toEqual([]);
});

it("since_seq equal to the last seq is no refusal: ready, then live", async () => {
  log.insert(ROOM, "m1", "m2", "m3");
  const sink = feed({ sinceSeq: 3 });
  await releaseHead();
  expect(sink.ended).toBeUndefined();
  expect(sink.shapes).toEqual([["ready"]]);
  expect(log.waiting).toEqual([]);
});

it("since_seq older than retention keeps: OUT_OF_RANGE naming the lost range", async () => {
  log.insert(ROOM, "m1", "m2", "m3", "m4", "m5");
  log.trim(ROOM, 3);
  const sink = feed({ sinceSeq: 1 });
  await releaseHead();
  expect(ending(sink)).toEqual({
    code: "OutOfRange",
    message:
      'since_seq 1 is older than room "r" retains: the oldest available seq is 3, so seqs 2..2 are gone; resume with since_seq >= 2 or read History',
    detail: ["epoch-1", 3n, 5n],
  });
  expect(sink.shapes).toEqual([]);
});

it("since_seq just before the oldest retained seq resumes with no hole", async () => {
  log.insert(ROOM, "m1", "m2", "m3", "m4", "m5");
  log.trim(ROOM, 3);
  const sink = feed({ sinceSeq: 2 });
  await releaseHead();
  (await log.next("read")).release();
  await settle();
  expect(sink.ended).toBeUndefined();
  expect(sink.shapes).toEqual([["ready"], [3, 4, 5]]);
});

it("another epoch: FAILED_PRECONDITION with the room's epoch, whatever since_seq is", async () => {
  log.insert(ROOM, "m1");
  const sink = feed({ sinceSeq: 1, epoch: "epoch-0" });
  await releaseHead();
  expect(ending(sink)).toEqual({
    code: "FailedPrecondition",
    message:
      'epoch "epoch-0" does not match room "r" epoch "epoch-1": the room\'s log was recreated, so seqs from the old epoch mean nothing; subscribe again without since_seq (or with since_seq 0 to replay the new log)',
    detail: ["epoch-1", 1n, 1n],
  });
  expect(sink.shapes).toEqual([]);
});

it("the right epoch is no refusal", async () => {
  log.insert(ROOM, "m1");
  const sink = feed({ sinceSeq: 0, epoch: "epoch-1" });
  await releaseHead();
  (await log.next("read")).release();
  await settle();
  expect(sink.ended).toBeUndefined();
  expect(sink.shapes).toEqual([["ready"], [1]]);
});

it("history trimmed between the head and the read: OUT_OF_RANGE after ready, never a hole", async () => {
  log.insert(ROOM, "m1", "m2", "m3", "m4", "m5");
  const sink = feed({ sinceSeq: 0 });
  await releaseHead();
  const read = await log.next("read");
  log.trim(ROOM, 3);
  read.release();
  await settle();
  expect(ending(sink)).toEqual({
    code: "OutOfRange",
    message:
      'room "r": seq 1 was trimmed by retention before it could be delivered (oldest now 3); resume from an available seq or read History',
    detail: undefined,
  });
  expect(sink.shapes).toEqual([["ready"]]);
  expect(hub.members(ROOM)).toEqual([]);
});
