import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type ChatMessage, ChatMessageSchema } from "../../../gen/chat/v1/chat_pb.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { freePort } from "../../helpers/free-port.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { openSse, request, type SseFrame, type SseStream } from "../../helpers/sse-client.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

const onCleanup = cleanupAfterEach();

async function serve(overrides: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer(overrides);
  onCleanup(() => server.stop());
  return server;
}

async function open(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const stream = await openSse(url, headers);
  onCleanup(() => stream.close());
  return stream;
}

/** The frame a stored message becomes. */
const messageFrame = (m: ChatMessage | undefined): SseFrame => ({
  id: String(m?.seq),
  event: "message",
  data: JSON.stringify(toJson(ChatMessageSchema, m as ChatMessage)),
});

const events = (frames: SseFrame[]) => frames.filter((f) => f.event !== undefined);
const messageIds = (frames: SseFrame[]) =>
  frames.filter((f) => f.event === "message").map((f) => Number(f.id));

describe("GET /rooms/{room}/events", () => {
  it("streams ready, the stored messages after ?since, then live events, as id/event/data frames", async () => {
    const server = await serve();
    const rpc = chatClient(server.url);
    await rpc.send({ room: "sse", author: "ann", text: "one" });
    await rpc.send({ room: "sse", author: "ann", text: "<b>two</b>\nlines" });

    const sse = await open(`${server.url}/rooms/sse/events?since=0&author=eve`);
    expect(sse.status).toBe(200);
    expect([
      sse.headers["content-type"],
      sse.headers["cache-control"],
      sse.headers["x-accel-buffering"],
    ]).toEqual(["text/event-stream; charset=utf-8", "no-cache, no-transform", "no"]);
    const start = await sse.readUntil((f) => messageIds(f).length === 2);
    const history = await rpc.history({ room: "sse" });
    const ready = JSON.parse(start[1]?.data ?? "{}");
    expect(start).toEqual([
      { retry: "1000" },
      {
        id: "0",
        event: "ready",
        data: JSON.stringify({
          room: "sse",
          epoch: history.epoch,
          lastSeq: "2",
          firstSeq: "1",
          memberId: ready.memberId,
          members: [{ memberId: ready.memberId, author: "eve" }],
        }),
      },
      messageFrame(history.messages[0]),
      messageFrame(history.messages[1]),
    ]);

    // Live: a message, someone joining, typing and leaving.
    const live = await rpc.send({ room: "sse", author: "ann", text: "three" });
    const bobAbort = new AbortController();
    const bob = rpc
      .subscribe({ room: "sse", author: "bob" }, { signal: bobAbort.signal })
      [Symbol.asyncIterator]();
    const bobReady = (await bob.next()).value?.events[0]?.event;
    const bobId = bobReady?.case === "ready" ? bobReady.value.memberId : "";
    await rpc.setTyping({ room: "sse", author: "bob" });
    bobAbort.abort();
    const all = await sse.readUntil((f) => events(f).some((e) => e.event === "leave"));
    expect(events(all).slice(3)).toEqual([
      messageFrame(live.message),
      { event: "join", data: JSON.stringify({ memberId: bobId, author: "bob" }) },
      { event: "typing", data: JSON.stringify({ author: "bob" }) },
      { event: "leave", data: JSON.stringify({ memberId: bobId, author: "bob" }) },
    ]);
  });

  it("starts live without ?since, its ready id naming the room's last seq", async () => {
    const server = await serve();
    const rpc = chatClient(server.url);
    for (const text of ["a", "b", "c"]) await rpc.send({ room: "live", author: "ann", text });
    const sse = await open(`${server.url}/rooms/live/events`);
    const [, ready] = await sse.readUntil((f) => f.length >= 2);
    expect([ready?.id, ready?.event]).toEqual(["3", "ready"]);
    const sent = await rpc.send({ room: "live", author: "ann", text: "d" });
    const frames = await sse.readUntil((f) => messageIds(f).length === 1);
    expect(frames.slice(2)).toEqual([messageFrame(sent.message)]);
  });

  it("resumes after Last-Event-ID, which wins over ?since (EventSource keeps its URL)", async () => {
    const server = await serve();
    const rpc = chatClient(server.url);
    for (const text of ["a", "b", "c", "d"]) await rpc.send({ room: "lei", author: "ann", text });
    const sse = await open(`${server.url}/rooms/lei/events?since=0`, { "last-event-id": "2" });
    const frames = await sse.readUntil((f) => messageIds(f).length === 2);
    expect(frames[1]?.id).toBe("2");
    expect(messageIds(frames)).toEqual([3, 4]);
  });

  it("sends keep-alive comments while idle", async () => {
    const server = await serve({ heartbeatMs: 50 });
    const rpc = chatClient(server.url);
    await rpc.send({ room: "idle", author: "ann", text: "a" });
    const sse = await open(`${server.url}/rooms/idle/events`);
    const frames = await sse.readUntil((f) => f.some((x) => x.comment !== undefined));
    expect(frames.find((x) => x.comment !== undefined)).toEqual({
      comment: "keep-alive, last seq 1",
    });
  });

  it("refuses with a clear HTTP error before streaming", async () => {
    const server = await serve();
    await chatClient(server.url).send({ room: "r", author: "ann", text: "a" });
    const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
      request(`${server.url}${path}`, { method, headers }).then((r) => [r.status, r.body]);
    const error = (code: string, message: string) => JSON.stringify({ code, message });

    expect(await get("/rooms/r/events", { accept: "application/json" })).toEqual([
      406,
      error(
        "invalid_argument",
        "/rooms/{room}/events sends text/event-stream, which this request's Accept header (application/json) does not accept",
      ),
    ]);
    expect(await get("/rooms/No%20Way/events")).toEqual([
      400,
      error(
        "invalid_argument",
        'room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "No Way")',
      ),
    ]);
    expect(await get("/rooms/r/events?since=-1")).toEqual([
      400,
      error(
        "invalid_argument",
        'since: must be a seq, a whole number from 0 to 9007199254740991 (got "-1")',
      ),
    ]);
    expect(await get("/rooms/r/events", { "last-event-id": "x" })).toEqual([
      400,
      error(
        "invalid_argument",
        'Last-Event-ID: must be a seq, a whole number from 0 to 9007199254740991 (got "x")',
      ),
    ]);
    expect(await get("/rooms/r/events?since=5")).toEqual([
      400,
      error("out_of_range", 'since_seq 5 is ahead of room "r": its last seq is 1'),
    ]);
    expect(await get("/rooms/r/events", {}, "POST")).toEqual([
      405,
      error("unimplemented", "/rooms/{room}/events answers GET, not POST"),
    ]);
    expect(await get("/rooms/r/messages")).toEqual([
      404,
      error("not_found", "no such path; room events are at /rooms/{room}/events"),
    ]);
  });
});

describe("SSE across a server restart (SQLite, same port)", () => {
  it("ends the stream with an end event on shutdown, then resumes after Last-Event-ID with no gap or duplicate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-sse-"));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const args = ["--port", String(port), "--host", "127.0.0.1", "--store", `sqlite:${dir}/p.db`];
    const start = async (): Promise<SpawnedServer> => {
      const s = await spawnServer(args);
      onCleanup(() => s.process.kill("SIGKILL"));
      return s;
    };

    let server = await start();
    const rpc = chatClient(server.url, "connect-h1");
    await rpc.send({ room: "restart", author: "ann", text: "before 1" });
    const first = await open(`${server.url}/rooms/restart/events`);
    await rpc.send({ room: "restart", author: "ann", text: "live 2" });
    await rpc.send({ room: "restart", author: "ann", text: "live 3" });
    await first.readUntil((f) => messageIds(f).length === 2);

    server.process.kill("SIGTERM");
    const frames = await first.ended();
    expect(frames.at(-1)).toEqual({
      event: "end",
      data: JSON.stringify({
        code: "unavailable",
        message: "server is shutting down; resume from your last seq",
      }),
    });
    expect(await server.exited).toBe(0);
    const lastId = frames.filter((f) => f.id !== undefined).at(-1)?.id;
    expect(lastId).toBe("3");

    server = await start();
    const rpc2 = chatClient(server.url, "connect-h1");
    await rpc2.send({ room: "restart", author: "ann", text: "while away 4" });
    await rpc2.send({ room: "restart", author: "ann", text: "while away 5" });
    const resumed = await open(`${server.url}/rooms/restart/events`, {
      "last-event-id": lastId ?? "",
    });
    await resumed.readUntil((f) => messageIds(f).length === 2);
    await rpc2.send({ room: "restart", author: "ann", text: "live 6" });
    const after = await resumed.readUntil((f) => messageIds(f).length === 3);
    expect(messageIds(after)).toEqual([4, 5, 6]);
    const texts = after
      .filter((f) => f.event === "message")
      .map((f) => JSON.parse(f.data ?? "").text);
    expect(texts).toEqual(["while away 4", "while away 5", "live 6"]);
  });
});
