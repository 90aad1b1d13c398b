import { readFileSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService, type RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../../src/client/ws-transport.js";
import { freePort } from "../../helpers/free-port.js";
import { type Sample, scrape, seriesValue } from "../../helpers/metrics-scrape.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { openSse, request } from "../../helpers/sse-client.js";
import { stalledSubscriber } from "../../helpers/stalled-subscriber.js";
import { chatClient } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// Issue 21 point 1: /metrics on a listener of its own, counting what every
// protocol did, exactly.

const SECRET = "metrics-test-secret-of-at-least-32-bytes";
const SEND = "chat.v1.ChatService/Send";
const SUBSCRIBE = "chat.v1.ChatService/Subscribe";
const LIST_ROOMS = "chat.v1.ChatService/ListRooms";
const HISTORY = "chat.v1.ChatService/History";

let server: SpawnedServer;
let metricsUrl: string;
let auth: { headers: Record<string, string> };

beforeAll(async () => {
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  server = await spawnServer([
    ...["--port", "0", "--host", "127.0.0.1", "--store", "memory:"],
    ...["--auth", "jwt", "--auth-secret-file", secretFile(SECRET)],
    ...["--metrics-port", String(metricsPort)],
    // A subscriber that stops reading is cut off once 4 KiB wait for it.
    ...["--queue-bytes", "1024"],
    // 305 Sends from one user, above the default burst of 30.
    ...["--user-send-rate", "1000", "--user-send-burst", "1000"],
  ]);
  auth = { headers: { authorization: `Bearer ${await hsToken(SECRET, { sub: "ann" })}` } };
}, 30_000);
afterAll(async () => {
  server?.process.kill("SIGTERM");
  await server?.exited;
});

/** Scrape until `done` holds for the samples (the server counts a call's end after it answered). */
async function scrapeUntil(done: (s: Sample[]) => boolean): Promise<Sample[]> {
  const until = Date.now() + 5000;
  for (;;) {
    const samples = await scrape(metricsUrl);
    if (done(samples) || Date.now() > until) return samples;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the metrics listener", () => {
  it("says where it listens, and the public port answers /metrics as any unknown path", async () => {
    expect(server.output()).toContain(`"metrics":"${metricsUrl}"`);
    const metricsThere = await request(`${server.url}/metrics`);
    const unknown = await request(`${server.url}/no-such-path`);
    expect([metricsThere.status, metricsThere.body]).toEqual([unknown.status, unknown.body]);
    expect(metricsThere.body).not.toContain("parley_");
    const other = await request(metricsUrl.replace("/metrics", "/other"));
    expect([other.status, other.body]).toEqual([404, "not found\n"]);
    const text = (await request(metricsUrl)).body;
    // Node's default metrics are there, under their usual names.
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it("counts calls on every protocol, refusals and a slow-consumer cut-off exactly", async () => {
    // Connect over HTTP/1.1: 3 Sends, one Subscribe read until those 3 arrived.
    const connect = chatClient(server.url, "connect-h1");
    const stop = new AbortController();
    const stream = connect.subscribe(
      { room: "metrics-connect", author: "ann" },
      { ...auth, signal: stop.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    // The first response: the stream is attached. Every event it was handed counts.
    let received = (await it.next()).value?.events.length ?? 0;
    for (const text of ["one", "two", "three"]) {
      await connect.send({ room: "metrics-connect", author: "ann", text }, auth);
    }
    let messages = 0;
    while (messages < 3) {
      const next = await it.next();
      received += next.value?.events.length ?? 0;
      messages +=
        next.value?.events.filter((e: RoomEvent) => e.event.case === "message").length ?? 0;
    }
    stop.abort();
    await it.return?.();
    const afterConnect = await scrapeUntil(
      (s) => seriesValue(s, "parley_streams_open", { method: SUBSCRIBE }) === 0,
    );
    // The only subscriber so far: every event handed to a stream is one it received.
    expect([messages, seriesValue(afterConnect, "parley_deliveries_total")]).toEqual([3, received]);

    // gRPC (the direct path): 2 Sends and one that breaks a limit.
    const grpc = chatClient(server.url, "grpc-h2");
    await grpc.send({ room: "metrics-grpc", author: "ann", text: "a" }, auth);
    await grpc.send({ room: "metrics-grpc", author: "ann", text: "b" }, auth);
    const invalid = await grpc
      .send({ room: "Not A Room", author: "ann", text: "c" }, auth)
      .catch((e: unknown) => ConnectError.from(e).code);
    expect(invalid).toBe(Code.InvalidArgument);

    // Connect without a token: refused before the method runs.
    const refused = await connect.listRooms({}).catch((e: unknown) => ConnectError.from(e).code);
    expect(refused).toBe(Code.Unauthenticated);

    // SSE: one stream, closed by the client once it started.
    const token = auth.headers.authorization?.slice("Bearer ".length) ?? "";
    const sse = await openSse(`${server.url}/rooms/metrics-sse/events?token=${token}`);
    await sse.readUntil((frames) => frames.some((f) => f.event !== undefined));
    sse.close();

    // WebSocket: 2 History calls on one socket.
    const transport = createWebSocketTransport({
      baseUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const ws = createClient(ChatService, transport);
    await ws.history({ room: "metrics-connect" }, auth);
    await ws.history({ room: "metrics-grpc" }, auth);
    transport.close();

    // A gRPC subscriber that stops reading while 300 messages of 400
    // characters (about 130 KB, past the HTTP/2 window) go to its room.
    const stalled = await stalledSubscriber(server.url, "metrics-slow", "ann", auth.headers);
    const sender = chatClient(server.url, "connect-h2");
    for (let i = 0; i < 300; i++) {
      await sender.send({ room: "metrics-slow", author: "ann", text: "x".repeat(400) }, auth);
    }
    const rest = await stalled.readRest();
    expect(rest.status).toBe(String(Code.ResourceExhausted));
    stalled.close();

    const samples = await scrapeUntil(
      (s) =>
        seriesValue(s, "parley_streams_open", { method: SUBSCRIBE }) === 0 &&
        seriesValue(s, "parley_calls_finished_total", {
          method: SUBSCRIBE,
          protocol: "sse",
          code: "canceled",
        }) === 1,
    );
    const v = (name: string, labels: Record<string, string> = {}) =>
      seriesValue(samples, name, labels);

    expect({
      connectSends: v("parley_calls_started_total", { method: SEND, protocol: "connect" }),
      connectSendsOk: v("parley_calls_finished_total", {
        method: SEND,
        protocol: "connect",
        code: "ok",
      }),
      grpcSends: v("parley_calls_started_total", { method: SEND, protocol: "grpc" }),
      grpcSendsOk: v("parley_calls_finished_total", { method: SEND, protocol: "grpc", code: "ok" }),
      grpcInvalid: v("parley_calls_finished_total", {
        method: SEND,
        protocol: "grpc",
        code: "invalid_argument",
      }),
      connectSubscribe: v("parley_calls_finished_total", {
        method: SUBSCRIBE,
        protocol: "connect",
        code: "canceled",
      }),
      grpcSubscribeCutOff: v("parley_calls_finished_total", {
        method: SUBSCRIBE,
        protocol: "grpc",
        code: "resource_exhausted",
      }),
      sseSubscribe: v("parley_calls_started_total", { method: SUBSCRIBE, protocol: "sse" }),
      unauthenticatedListRooms: v("parley_calls_finished_total", {
        method: LIST_ROOMS,
        protocol: "connect",
        code: "unauthenticated",
      }),
      wsHistory: v("parley_calls_finished_total", {
        method: HISTORY,
        protocol: "websocket",
        code: "ok",
      }),
      streamsOpen: v("parley_streams_open", { method: SUBSCRIBE }),
      refusedUnauthenticated: v("parley_refusals_total", { reason: "unauthenticated" }),
      refusedUserSends: v("parley_refusals_total", { reason: "user_sends" }),
      cutOffHardCap: v("parley_slow_consumer_cutoffs_total", { reason: "hard_cap" }),
      cutOffGrace: v("parley_slow_consumer_cutoffs_total", { reason: "grace" }),
      appends: v("parley_store_append_duration_seconds_count", { engine: "memory" }),
      appendErrors: v("parley_store_append_errors_total", { engine: "memory" }),
      storeUp: v("parley_store_up", { engine: "memory" }),
      websocketsOpened: v("parley_connections_opened_total", { protocol: "websocket" }),
      websocketsOpen: v("parley_connections_open", { protocol: "websocket" }),
      queueBytes: v("parley_subscriber_queue_bytes"),
    }).toEqual({
      connectSends: 303,
      connectSendsOk: 303,
      grpcSends: 3,
      grpcSendsOk: 2,
      grpcInvalid: 1,
      connectSubscribe: 1,
      grpcSubscribeCutOff: 1,
      sseSubscribe: 1,
      unauthenticatedListRooms: 1,
      wsHistory: 2,
      streamsOpen: 0,
      refusedUnauthenticated: 1,
      refusedUserSends: 0,
      cutOffHardCap: 1,
      cutOffGrace: 0,
      appends: 305,
      appendErrors: 0,
      storeUp: 1,
      websocketsOpened: 1,
      websocketsOpen: 0,
      queueBytes: 0,
    });
  }, 60_000);

  it("counts a call by what its client was told: a tokenless body that does not parse is invalid_argument, not an auth refusal", async () => {
    const counts = (s: Sample[]) => [
      seriesValue(s, "parley_calls_finished_total", {
        method: HISTORY,
        protocol: "connect",
        code: "invalid_argument",
      }) ?? 0,
      seriesValue(s, "parley_calls_finished_total", {
        method: HISTORY,
        protocol: "connect",
        code: "unauthenticated",
      }) ?? 0,
      seriesValue(s, "parley_refusals_total", { reason: "unauthenticated" }) ?? 0,
    ];
    const [invalid, unauthenticated, refusals] = counts(await scrape(metricsUrl));
    const answer = await fetch(`${server.url}/${HISTORY}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "not json",
    });
    expect([answer.status, ((await answer.json()) as { code: string }).code]).toEqual([
      400,
      "invalid_argument",
    ]);
    const after = counts(await scrapeUntil((s) => (counts(s)[0] as number) > (invalid as number)));
    expect(after).toEqual([(invalid as number) + 1, unauthenticated, refusals]);
  });

  it("takes no label value from the client: an unknown path adds no series", async () => {
    const parleySeries = (s: Sample[]) => s.filter((x) => x.name.startsWith("parley_")).length;
    const before = parleySeries(await scrape(metricsUrl));
    for (const path of ["/chat.v1.ChatService/Nope", "/evil.Service/Method", "/rooms/x/y"]) {
      await request(`${server.url}${path}`, { method: "POST" });
    }
    const after = await scrape(metricsUrl);
    const methods = new Set(after.flatMap((s) => (s.labels.method ? [s.labels.method] : [])));
    expect([...methods].every((m) => m.startsWith("chat.v1.ChatService/"))).toBe(true);
    // Node's default metrics may add series of their own (a new GC kind): parley_ ones only.
    expect(parleySeries(after)).toBe(before);
  });

  it("is what docs/metrics.md lists and the Grafana dashboard queries", async () => {
    const text = (await request(metricsUrl)).body;
    const families = [...text.matchAll(/^# TYPE (parley_\w+) /gm)].map((m) => m[1] as string);
    const docs = readFileSync("docs/metrics.md", "utf8");
    const documented = new Set([...docs.matchAll(/^\| `(parley_\w+)`/gm)].map((m) => m[1]));
    expect(families.sort()).toEqual([...documented].sort());
    const dashboard = readFileSync("docs/grafana-dashboard.json", "utf8");
    const queried = new Set(
      [...dashboard.matchAll(/parley_\w+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")),
    );
    expect([...queried].filter((name) => !families.includes(name))).toEqual([]);
  });
});
