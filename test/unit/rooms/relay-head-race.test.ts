import type { ConnectError } from "@connectrpc/connect";
import { expect, it } from "vitest";
import { type RelayTarget, relayOtherNodes } from "../../../src/rooms/other-nodes.js";
import type { QueuedEvent } from "../../../src/rooms/room-event.js";
import type { Subscription } from "../../../src/rooms/subscription.js";
import type { LiveListener, MessageLog, RoomHead } from "../../../src/store/message-log.js";

// When a room's live watch stands, the relay reads the log's head to check
// that the log still holds what the room already delivered (a Redis that
// lost data). The room keeps publishing while that read is out, so only what
// was published before the read was sent may be held against its answer.

const EPOCH = "epoch-1";

/** A shared-store log whose head reads answer only when the test says, with the head it gives. */
function logWithHeldHeads() {
  const heads: Array<(head: RoomHead) => void> = [];
  const reads: number[] = [];
  let listener: LiveListener | undefined;
  const log = {
    head: () => new Promise<RoomHead>((resolve) => heads.push(resolve)),
    read: async (_room: string, range: { afterSeq: number }) => {
      reads.push(range.afterSeq);
      return [];
    },
    live: {
      watch: (_room: string, l: LiveListener) => {
        listener = l;
        return () => undefined;
      },
    },
  } as unknown as MessageLog;
  return {
    log,
    heads,
    reads,
    resumed: () => listener?.resumed(),
  };
}

/** A room whose subscribers record how they were ended. */
function room(publishedSeq: number) {
  const failures: string[] = [];
  const subscriber = { fail: (e: ConnectError) => failures.push(e.rawMessage) };
  const target = {
    name: "r",
    publishedSeq,
    publish(_event: QueuedEvent) {},
    forEachSubscriber: (visit: (sub: Subscription) => void) =>
      visit(subscriber as unknown as Subscription),
  } satisfies RelayTarget;
  return { target, failures };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

it("does not end subscribers for a message the room published while its head read was out", async () => {
  const store = logWithHeldHeads();
  const r = room(36);
  const relay = relayOtherNodes(r.target, store.log);
  store.resumed();
  // The room's own append of seq 37 is pushed before the head read, sent
  // when 36 was the last seq, is answered.
  r.target.publishedSeq = 37;
  store.heads[0]?.({ epoch: EPOCH, lastSeq: 36, firstSeq: 1 });
  await settle();
  expect(r.failures).toEqual([]);
  expect(store.reads).toEqual([37]);
  relay?.stop();
});

it("ends subscribers when the log lacks what the room had published before the read", async () => {
  const store = logWithHeldHeads();
  const r = room(36);
  const relay = relayOtherNodes(r.target, store.log);
  store.resumed();
  store.heads[0]?.({ epoch: EPOCH, lastSeq: 30, firstSeq: 1 });
  await settle();
  expect(r.failures).toEqual(['since_seq 36 is ahead of room "r": its last seq is 30']);
  expect(store.reads).toEqual([]);
  relay?.stop();
});
