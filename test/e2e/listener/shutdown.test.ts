import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, expect, it } from "vitest";
import type { EchoRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { readUntil } from "../../helpers/streams.js";
import { chatClient, transportFor } from "../../helpers/test-server.js";

const running: SpawnedServer[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.process.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(args: string[]): Promise<SpawnedServer> {
  const server = await spawnServer(["--port", "0", "--host", "127.0.0.1", ...args]);
  running.push(server);
  return server;
}

/** The error a stream ends with (undefined if it ends cleanly). */
async function endOf(it: AsyncIterator<unknown>): Promise<ConnectError | undefined> {
  try {
    for (;;) if ((await it.next()).done) return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

it("SIGTERM ends open streams (health Watch too) with UNAVAILABLE on every protocol and exits 0", async () => {
  const server = await start(["--store", "memory:"]);
  const streams = await Promise.all(
    (["connect-h2", "grpc-h2", "connect-h1", "grpcweb-h1"] as const).map(async (t) => {
      const it = chatClient(server.url, t).subscribe({ room: "lobby" })[Symbol.asyncIterator]();
      await readUntil(it, (seen) => seen.length >= 1);
      return it;
    }),
  );
  let hold: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    hold = resolve;
  });
  async function* echoRequests(): AsyncGenerator<MessageInitShape<typeof EchoRequestSchema>> {
    yield { text: "still here" };
    await held;
  }
  const echo = chatClient(server.url, "connect-h2").echo(echoRequests())[Symbol.asyncIterator]();
  expect((await echo.next()).value).toMatchObject({ text: "still here", seq: 1n });
  const watch = createClient(Health, transportFor("grpc-h2", server.url))
    .watch({ service: "" })
    [Symbol.asyncIterator]();
  expect((await watch.next()).value?.status).toBe(Status.SERVING);

  server.process.kill("SIGTERM");
  const watchEnd = (async () => {
    // The Watch tells NOT_SERVING before it ends, as the health protocol asks.
    expect((await watch.next()).value?.status).toBe(Status.NOT_SERVING);
    return endOf(watch);
  })();
  const errors = await Promise.all([...[...streams, echo].map(endOf), watchEnd]);
  hold();
  for (const err of errors) {
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toBe("server is shutting down; resume from your last seq");
  }
  expect(await server.exited).toBe(0);
  expect(server.output()).toMatch(/"msg":"parley stopped"/);
});

it("every Send acknowledged before SIGTERM is in the store after a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-shutdown-"));
  dirs.push(dir);
  const store = `sqlite:${join(dir, "parley.db")}`;
  const server = await start(["--store", store]);
  const client = chatClient(server.url, "connect-h2");
  const acked: number[] = [];
  const refusals = new Set<string>();
  // Ten writers keep sending until the server refuses them; SIGTERM lands
  // while calls are in flight.
  const writers = Array.from({ length: 10 }, async (_, w) => {
    for (let i = 0; ; i++) {
      try {
        const res = await client.send({ room: "last-words", author: `w${w}`, text: `m${i}` });
        acked.push(Number(res.message?.seq));
        if (acked.length === 50) server.process.kill("SIGTERM");
      } catch (e) {
        refusals.add(`${Code[ConnectError.from(e).code]}: ${ConnectError.from(e).rawMessage}`);
        return;
      }
    }
  });
  await Promise.all(writers);
  // Calls after the shutdown began were refused, never half-done: either the
  // server answered UNAVAILABLE, or HTTP/2 refused the stream after GOAWAY
  // (REFUSED_STREAM: not processed, safe to retry; connect-node reports it as
  // internal).
  expect(refusals.size).toBeGreaterThan(0);
  for (const r of refusals) {
    expect(r).toMatch(
      /^(Unavailable: |Internal: Stream closed with error code NGHTTP2_REFUSED_STREAM$)/,
    );
  }
  expect(await server.exited).toBe(0);
  expect(acked.length).toBeGreaterThanOrEqual(50);

  const again = await start(["--store", store]);
  const history = await chatClient(again.url).history({ room: "last-words", limit: 1000 });
  const stored = new Set(history.messages.map((m) => Number(m.seq)));
  for (const seq of acked) expect(stored.has(seq)).toBe(true);
  expect(history.messages.map((m) => Number(m.seq))).toEqual(
    Array.from({ length: history.messages.length }, (_, i) => i + 1),
  );
});

it("a request refused for its size does not hold the connection open through shutdown", async () => {
  const server = await start(["--store", "memory:"]);
  for (const transport of ["grpc-h2", "grpcweb-h2", "connect-h2", "connect-h1"] as const) {
    const client = chatClient(server.url, transport);
    // A small call first, then one over the 64 KiB limit whose body the server never reads.
    await client.send({ room: "big", author: "ann", text: "small" });
    const err = await client
      .send({ room: "big", author: "ann", text: "x".repeat(70 * 1024) })
      .then(() => undefined, ConnectError.from);
    expect(err?.code).toBe(Code.ResourceExhausted);
  }
  server.process.kill("SIGTERM");
  expect(await server.exited).toBe(0);
  // Every connection closed by itself: none had to be cut at the deadline.
  expect(server.output()).not.toContain("still open at the shutdown deadline");
  expect(server.output()).toContain('"msg":"parley stopped"');
});

it("a busy connection still gets its GOAWAY soon, and nothing waits for the deadline", async () => {
  // The server sends GOAWAY to an HTTP/2 connection once its calls have
  // ended and a PING has come back. 200 staggered callers on one connection
  // keep calls open nearly all the time; the connection must still close
  // long before --shutdown-ms, its callers refused and sent elsewhere.
  const server = await start(["--store", "memory:", "--shutdown-ms", "8000"]);
  const client = chatClient(server.url, "connect-h2");
  let acked = 0;
  let exited = false;
  void server.exited.then(() => {
    exited = true;
  });
  const errors = new Set<string>();
  const writers = Array.from({ length: 200 }, async (_, w) => {
    for (let i = 0; !exited; i++) {
      // Staggered, as independent callers are.
      await new Promise((r) => setTimeout(r, w % 7));
      try {
        await client.send({ room: "busy", author: `w${w}`, text: `m${i}` });
        if (++acked === 200) server.process.kill("SIGTERM");
      } catch (e) {
        // Keep calling at once, as a busy service would: refused, then the port is closed.
        errors.add(`${Code[ConnectError.from(e).code]}: ${ConnectError.from(e).rawMessage}`);
      }
    }
  });
  expect(await server.exited).toBe(0);
  await Promise.all(writers);
  expect(server.output()).not.toContain("still open at the shutdown deadline");
  expect(server.output()).toContain('"msg":"parley stopped"');
  expect(errors.size).toBeGreaterThan(0);
  // Refused, never cut off mid-call: not processed (REFUSED_STREAM, which
  // connect-node reports as internal), or the server already gone.
  for (const e of errors) {
    expect(e).toMatch(
      /^(Internal: Stream closed with error code NGHTTP2_REFUSED_STREAM|Unavailable: connect ECONNREFUSED .*)$/,
    );
  }
}, 30_000);
