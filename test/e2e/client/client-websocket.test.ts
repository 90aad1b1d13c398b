import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../../src/client/ws-transport.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { freePort } from "../../helpers/free-port.js";
import { startFreezableProxy } from "../../helpers/freezable-proxy.js";
import { type SpawnedServer, spawnOnPort } from "../../helpers/spawn-server.js";
import { startTestServer } from "../../helpers/test-server.js";

// Issue 18 point 3: the WebSocket transport when its socket is lost. Every
// open call fails with UNAVAILABLE, the next call opens a new socket, and a
// server that vanished without closing (a half-open socket) is noticed by
// the client's own pings.

const onCleanup = cleanupAfterEach();

async function spawnOn(port: number, store: string): Promise<SpawnedServer> {
  const server = await spawnOnPort(port, store);
  onCleanup(() => server.process.kill("SIGKILL"));
  return server;
}

function wsClient(baseUrl: string, pingIntervalMs?: number) {
  const transport = createWebSocketTransport({
    baseUrl,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...(pingIntervalMs === undefined ? {} : { pingIntervalMs }),
  });
  onCleanup(() => transport.close());
  return createClient(ChatService, transport);
}

/** How a stream ended: "ok", or its code and message. */
async function ending(stream: AsyncIterable<unknown>): Promise<string> {
  try {
    for await (const _ of stream);
    return "ok";
  } catch (error) {
    const e = ConnectError.from(error);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
}

/** `promise`, or "still pending after <ms> ms". */
function within<T>(promise: Promise<T>, ms: number): Promise<T | string> {
  return Promise.race([
    promise,
    new Promise<string>((resolve) => setTimeout(() => resolve(`still pending after ${ms} ms`), ms)),
  ]);
}

describe("the WebSocket transport when its socket is lost", () => {
  it("kill -9: every open call fails UNAVAILABLE; after the restart the next call opens a new socket", async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "parley-ws-client-"));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const store = `sqlite:${join(dir, "parley.db")}`;
    let server = await spawnOn(port, store);
    const client = wsClient(`http://127.0.0.1:${port}`);
    expect((await client.send({ room: "lost", author: "ann", text: "one" })).message?.seq).toBe(1n);

    // Three open calls on the one socket: a Subscribe, an Echo and a Listener, all waiting.
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    const subscription = client.subscribe({ room: "lost" }, { signal: stop.signal });
    const subscribed = subscription[Symbol.asyncIterator]();
    expect((await subscribed.next()).value?.events[0]?.event.case).toBe("ready");
    let echoed!: () => void;
    const firstEchoed = new Promise<void>((resolve) => {
      echoed = resolve;
    });
    const echo = client.echo(
      (async function* () {
        yield { text: "ping" };
        await new Promise((resolve) => stop.signal.addEventListener("abort", resolve));
      })(),
    );
    const echoEnd = (async () => {
      try {
        for await (const _ of echo) echoed();
        return "ok";
      } catch (error) {
        const e = ConnectError.from(error);
        return `${Code[e.code]}: ${e.rawMessage}`;
      }
    })();
    await firstEchoed;
    const listener = client
      .listener(
        (async function* () {
          yield { room: "lost", author: "ann", text: "two" };
          await new Promise((resolve) => stop.signal.addEventListener("abort", resolve));
        })(),
      )
      .then(
        () => "ok",
        (e: unknown) => `${Code[ConnectError.from(e).code]}: ${ConnectError.from(e).rawMessage}`,
      );

    // The Listener stores as it reads: wait until "two" is in.
    for (let i = 0; i < 500; i++) {
      if ((await client.history({ room: "lost" })).lastSeq === 2n) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    server.process.kill("SIGKILL");
    await server.exited;
    const lost = `Unavailable: the WebSocket to ws://127.0.0.1:${port}/ws closed (1006)`;
    expect(
      await Promise.all([
        within(ending({ [Symbol.asyncIterator]: () => subscribed }), 5000),
        within(echoEnd, 5000),
        within(listener, 5000),
      ]),
    ).toEqual([lost, lost, lost]);

    // While the server is down a call fails at once, UNAVAILABLE too.
    const down = await client
      .send({ room: "lost", author: "ann", text: "x" })
      .catch((e: unknown) => e);
    expect(ConnectError.from(down).code).toBe(Code.Unavailable);

    server = await spawnOn(port, store);
    const after = await client.send({ room: "lost", author: "ann", text: "three" });
    expect([after.message?.seq, after.message?.text]).toEqual([3n, "three"]);
  }, 60_000); // Two server starts (tsx compiles the sources each time) on a busy machine.

  it("a half-open socket (the server vanished without closing) is noticed by the client's pings", async () => {
    const server = await startTestServer();
    onCleanup(() => server.stop());
    const proxy = await startFreezableProxy(server.port);
    onCleanup(() => proxy.close());
    const client = wsClient(proxy.url, 200);
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    const subscribed = client
      .subscribe({ room: "half-open" }, { signal: stop.signal })
      [Symbol.asyncIterator]();
    expect((await subscribed.next()).value?.events[0]?.event.case).toBe("ready");
    // Nothing gets through either way from now on, and no side sees a close.
    proxy.freeze();
    expect(await within(ending({ [Symbol.asyncIterator]: () => subscribed }), 5000)).toBe(
      `Unavailable: the WebSocket to ${proxy.url.replace("http", "ws")}/ws closed (no pong from the server in 200 ms)`,
    );
    // The next call opens a new socket (a new connection through the proxy).
    const sent = await client.send({ room: "half-open", author: "ann", text: "after" });
    expect(sent.message?.seq).toBe(1n);
  });
});
