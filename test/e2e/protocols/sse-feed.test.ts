import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_DEFAULTS } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { openSse, request, type SseFrame } from "../../helpers/sse-client.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

/** The messages among SSE frames, as "room:seq". */
const messages = (frames: SseFrame[]) =>
  frames
    .filter((f) => f.event === "message")
    .map((f) => {
      const m = JSON.parse(f.data ?? "{}") as { room: string; seq: string };
      return `${m.room}:${m.seq}`;
    });

/** The id EventSource would send back as Last-Event-ID: the last id seen. */
const lastId = (frames: SseFrame[]) => frames.filter((f) => f.id !== undefined).at(-1)?.id;

describe("GET /feed/events (the Feed's SSE twin)", () => {
  let server: ParleyServer;
  let ann = "";
  let zed = "";
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    server = await startTestServer({ auth: { ...AUTH_DEFAULTS, mode: "guest" } });
    const client = chatClient(server.url);
    ann = (await client.login({ name: "ann" })).token;
    zed = (await client.login({ name: "zed" })).token;
    // Memberships straight in the store until JoinRoom is served.
    await server.log.people.join("ann", "r1", 0, 1000);
    await server.log.people.join("ann", "r2", 0, 1000);
  });
  afterAll(() => server.stop());

  it("streams ready then messages, each response's cursor as the id; a reconnect with Last-Event-ID resumes with no gap or duplicate", async () => {
    const client = chatClient(server.url);
    const url = `${server.url}/feed/events?token=${ann}`;
    const first = await openSse(url);
    expect(first.status).toBe(200);
    const ready = await first.readUntil((f) => f.some((x) => x.event === "ready"));
    const readyFrame = ready.find((f) => f.event === "ready");
    expect(JSON.parse(readyFrame?.data ?? "{}").rooms.map((r: { room: string }) => r.room)).toEqual(
      ["r1", "r2"],
    );
    expect(readyFrame?.id).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const room of ["r1", "r2", "r1", "r1", "r2"]) {
      await client.send({ room, text: "hi" }, bearer(zed));
    }
    const seen = await first.readUntil((f) => messages(f).length >= 5);
    first.close();
    expect(messages(seen).sort()).toEqual(["r1:1", "r1:2", "r1:3", "r2:1", "r2:2"]);
    await client.send({ room: "r2", text: "away" }, bearer(zed));
    await client.send({ room: "r1", text: "away" }, bearer(zed));
    // EventSource keeps its URL (a ?cursor= too): Last-Event-ID wins over it.
    const again = await openSse(`${url}&cursor=${readyFrame?.id}`, {
      "last-event-id": lastId(seen) ?? "",
    });
    const resumed = await again.readUntil((f) => messages(f).length >= 2);
    again.close();
    expect(messages(resumed).sort()).toEqual(["r1:4", "r2:3"]);
    expect(resumed.filter((f) => f.event !== undefined)[0]?.event).toBe("ready");
  });

  it("refuses a malformed Last-Event-ID and a missing token before the stream, with Connect's JSON error", async () => {
    const bad = await request(`${server.url}/feed/events?token=${ann}`, {
      headers: { accept: "text/event-stream", "last-event-id": "x!" },
    });
    expect(bad.status).toBe(400);
    const body = JSON.parse(bad.body) as { code: string; message: string };
    expect([body.code, body.message.startsWith("cursor: malformed")]).toEqual([
      "invalid_argument",
      true,
    ]);
    const anonymous = await request(`${server.url}/feed/events`, {
      headers: { accept: "text/event-stream" },
    });
    expect([anonymous.status, JSON.parse(anonymous.body).code]).toEqual([401, "unauthenticated"]);
  });
});
