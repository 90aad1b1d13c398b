import { afterAll, beforeAll, expect, it } from "vitest";
import type { RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { startFreezableProxy } from "../../helpers/freezable-proxy.js";
import { readUntil } from "../../helpers/streams.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer({ heartbeatMs: 200 });
});
afterAll(() => server.stop());

const has = (kind: RoomEvent["event"]["case"]) => (seen: RoomEvent[]) =>
  seen.some((e) => e.event.case === kind);

it("members see others join and leave, never themselves", async () => {
  const room = "presence";
  const annAbort = new AbortController();
  const ann = chatClient(server.url)
    .subscribe({ room, author: "ann" }, { signal: annAbort.signal })
    [Symbol.asyncIterator]();
  const annStart = await readUntil(ann, has("ready"));
  const annReady = annStart[0]?.event.case === "ready" ? annStart[0].event.value : undefined;
  expect(annReady?.memberId).toMatch(/^[A-Za-z0-9_-]{8}$/);

  const bobAbort = new AbortController();
  const bob = chatClient(server.url, "grpc-h2")
    .subscribe({ room, author: "bob" }, { signal: bobAbort.signal })
    [Symbol.asyncIterator]();
  const bobStart = await readUntil(bob, has("ready"));
  const bobReady = bobStart[0]?.event.case === "ready" ? bobStart[0].event.value : undefined;

  const joined = await readUntil(ann, has("join"));
  const join = joined.find((e) => e.event.case === "join");
  expect(join?.event.value).toMatchObject({ memberId: bobReady?.memberId, author: "bob" });

  bobAbort.abort();
  const left = await readUntil(ann, has("leave"));
  const leave = left.find((e) => e.event.case === "leave");
  expect(leave?.event.value).toMatchObject({ memberId: bobReady?.memberId, author: "bob" });
  // Bob saw no join of his own: his stream held only ready (and maybe a heartbeat).
  expect(bobStart.filter((e) => e.event.case === "join")).toEqual([]);
  annAbort.abort();
});

it("an idle stream gets heartbeats carrying the room's last seq", async () => {
  const room = "quiet";
  const client = chatClient(server.url);
  await client.send({ room, author: "ann", text: "one" });
  await client.send({ room, author: "ann", text: "two" });
  const abort = new AbortController();
  const it = client.subscribe({ room }, { signal: abort.signal })[Symbol.asyncIterator]();
  const seen = await readUntil(
    it,
    (s) => s.filter((e) => e.event.case === "heartbeat").length >= 2,
  );
  const beats = seen.filter((e) => e.event.case === "heartbeat");
  for (const beat of beats) {
    expect(beat.event.case === "heartbeat" && beat.event.value.lastSeq).toBe(2n);
  }
  const times = beats.map((b) =>
    b.event.case === "heartbeat"
      ? Number(b.event.value.at?.seconds) * 1000 + (b.event.value.at?.nanos ?? 0) / 1e6
      : 0,
  );
  // Two heartbeats are at least one interval apart (the tick may add up to half of one).
  expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(190);
  abort.abort();
});

it("a peer that vanishes without closing is detected by HTTP/2 pings and leaves the room", async () => {
  const room = "vanishing";
  const proxy = await startFreezableProxy(server.port);
  const annAbort = new AbortController();
  const ann = chatClient(server.url)
    .subscribe({ room, author: "ann" }, { signal: annAbort.signal })
    [Symbol.asyncIterator]();
  await readUntil(ann, has("ready"));

  const ghostAbort = new AbortController();
  const ghost = chatClient(proxy.url)
    .subscribe({ room, author: "ghost" }, { signal: ghostAbort.signal })
    [Symbol.asyncIterator]();
  const ghostStart = await readUntil(ghost, has("ready"));
  const ghostId = ghostStart[0]?.event.case === "ready" ? ghostStart[0].event.value.memberId : "";
  const joined = await readUntil(ann, has("join"));
  expect(joined.find((e) => e.event.case === "join")?.event.value).toMatchObject({
    memberId: ghostId,
  });

  // No FIN, no RST: the ghost's connection just stops answering.
  proxy.freeze();
  const left = await readUntil(ann, has("leave"));
  expect(left.find((e) => e.event.case === "leave")?.event.value).toMatchObject({
    memberId: ghostId,
    author: "ghost",
  });
  annAbort.abort();
  ghostAbort.abort();
  await proxy.close();
});
