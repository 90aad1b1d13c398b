import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import type { QueuedEvent } from "../../../src/rooms/room-event.js";
import { type TypingOptions, TypingTracker } from "../../../src/rooms/typing.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { readUntil } from "../../helpers/streams.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

/** "author typing" / "author stopped" for typing events, "#seq" for messages. */
function describeEvent(e: RoomEvent): string {
  switch (e.event.case) {
    case "typing":
      return `${e.event.value.author} ${e.event.value.stopped ? "stopped" : "typing"}`;
    case "message":
      return `#${e.event.value.seq}`;
    default:
      return e.event.case ?? "none";
  }
}

describe("TypingTracker (fake clock: the contract's 1 s and 5 s exactly)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function tracker() {
    vi.useFakeTimers({ now: 0 });
    const published: string[] = [];
    const record = (room: string, q: QueuedEvent) =>
      published.push(`${Date.now()} ${room} ${describeEvent(q.event)}`);
    return { typists: new TypingTracker(record), published };
  }

  it("coalesces a keystroke flood to one event per author per second", () => {
    const { typists, published } = tracker();
    for (let t = 0; t < 2500; t += 50) {
      typists.typing("lobby", "ann");
      if (t % 100 === 0) typists.typing("lobby", "bob");
      vi.advanceTimersByTime(50);
    }
    expect(published).toEqual([
      "0 lobby ann typing",
      "0 lobby bob typing",
      "1000 lobby ann typing",
      "1000 lobby bob typing",
      "2000 lobby ann typing",
      "2000 lobby bob typing",
    ]);
    typists.close();
  });

  it("sends stopped 5 s after the last refresh, counting refreshes that were not sent", () => {
    const { typists, published } = tracker();
    typists.typing("lobby", "ann");
    vi.advanceTimersByTime(600);
    typists.typing("lobby", "ann"); // coalesced, but refreshes: expiry moves to 5600
    vi.advanceTimersByTime(4999);
    expect(published).toEqual(["0 lobby ann typing"]);
    vi.advanceTimersByTime(1);
    expect(published).toEqual(["0 lobby ann typing", "5600 lobby ann stopped"]);
    vi.advanceTimersByTime(60_000);
    expect(published).toHaveLength(2);
  });

  it("stopped goes out at once, only for a typist; a message forgets the typist silently", () => {
    const { typists, published } = tracker();
    typists.stopped("lobby", "ann"); // not typing: nothing
    typists.typing("lobby", "ann");
    typists.typing("other", "ann"); // rooms are separate
    vi.advanceTimersByTime(10);
    typists.stopped("lobby", "ann");
    typists.messageFrom("other", "ann");
    typists.typing("lobby", "ann"); // a new spell of typing: sent at once
    vi.advanceTimersByTime(60_000);
    expect(published).toEqual([
      "0 lobby ann typing",
      "0 other ann typing",
      "10 lobby ann stopped",
      "10 lobby ann typing",
      "5010 lobby ann stopped",
    ]);
  });
});

describe("SetTyping end to end", () => {
  const servers: ParleyServer[] = [];
  const aborts: AbortController[] = [];
  afterEach(async () => {
    for (const a of aborts.splice(0)) a.abort();
    for (const s of servers.splice(0)) await s.stop();
  });

  async function serve(typing: TypingOptions) {
    const server = await startTestServer({}, { typing });
    servers.push(server);
    const client = chatClient(server.url);
    const abort = new AbortController();
    aborts.push(abort);
    const events = client
      .subscribe({ room: "lobby", author: "ann" }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    await readUntil(events, (s) => s.length >= 1);
    const next = async (n: number) =>
      (await readUntil(events, (s) => s.length >= n)).map(describeEvent);
    return { client, next };
  }

  it("delivers one event for a flood, stopped on request, and none after a message", async () => {
    // A window no test run can outlast, so the counts below cannot depend on speed.
    const { client, next } = await serve({ coalesceMs: 60_000, expireMs: 60_000 });
    for (let i = 0; i < 30; i++) await client.setTyping({ room: "lobby", author: "bob" });
    await client.setTyping({ room: "lobby", author: "bob", stopped: true });
    await client.setTyping({ room: "lobby", author: "bob", stopped: true });
    expect(await next(2)).toEqual(["bob typing", "bob stopped"]);

    await client.setTyping({ room: "lobby", author: "bob" });
    await client.send({ room: "lobby", author: "bob", text: "done typing" });
    await client.setTyping({ room: "lobby", author: "bob" });
    expect(await next(3)).toEqual(["bob typing", "#1", "bob typing"]);
  });

  it("expires a typist that stops refreshing with a stopped event", async () => {
    const { client, next } = await serve({ coalesceMs: 60_000, expireMs: 50 });
    await client.setTyping({ room: "lobby", author: "bob" });
    expect(await next(2)).toEqual(["bob typing", "bob stopped"]);
  });

  it("refuses a bad author or room, naming the field, and sends nothing", async () => {
    const { client, next } = await serve({ coalesceMs: 60_000, expireMs: 60_000 });
    await expect(client.setTyping({ room: "lobby", author: "  " })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: "author: must be 1-32 characters after trimming (got 0)",
    });
    await expect(client.setTyping({ room: "Lobby", author: "bob" })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage:
        'room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "Lobby")',
    });
    await client.setTyping({ room: "lobby", author: "cat" });
    expect(await next(1)).toEqual(["cat typing"]);
  });
});
