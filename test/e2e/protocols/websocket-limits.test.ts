import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { SubscribeRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { CallPolicy } from "../../../src/calls/call-policy.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import {
  connectRawWs,
  type RawWs,
  tryUpgrade,
  wsEchoes,
  wsHalfClose,
  wsMessage,
  wsOpen,
} from "../../helpers/ws-raw.js";

// Issue 18's Bad input for the socket as a whole: a socket that never reads,
// a peer that stops answering pings, one socket too many from an address.
// Each is refused or closed clearly while other sockets keep serving, and a
// closed socket's subscribers leave their rooms.

const onCleanup = cleanupAfterEach();

/** A server, and "method code message" of every finished call as the policy chain saw it. */
async function serverWithOutcomes(overrides: Parameters<typeof startTestServer>[0]) {
  const outcomes: string[] = [];
  const record: CallPolicy = {
    finished(call, error) {
      if (error === undefined) {
        outcomes.push(`${call.method.name} ok`);
        return;
      }
      const e = ConnectError.from(error);
      outcomes.push(`${call.method.name} ${e.code} ${e.rawMessage}`);
    },
  };
  const server = await startTestServer(overrides, { policies: [record] });
  onCleanup(() => server.stop());
  return { server, outcomes };
}

async function raw(server: ParleyServer, options: { autoPong?: boolean } = {}) {
  const socket = await connectRawWs(server.url, {}, "parley.v1", options);
  onCleanup(() => socket.ws.terminate());
  return socket;
}

/** Open a Subscribe as call `id` and wait for its HEADERS. */
async function subscribe(
  socket: RawWs,
  id: number,
  request: { room: string; author?: string; sinceSeq?: bigint },
  credit?: number,
) {
  socket.ws.send(wsOpen(id, "Subscribe", credit === undefined ? {} : { credit }));
  socket.ws.send(
    wsMessage(id, toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, request))),
  );
  socket.ws.send(wsHalfClose(id));
  await socket.waitFor(0x11, id);
}

async function members(server: ParleyServer, room: string) {
  const list = await chatClient(server.url).listMembers({ room });
  return list.members.map((m) => m.author);
}

/** Poll `done` every 10 ms; fail naming `what` if it is still false after `timeoutMs`. */
async function waitUntil(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The TCP socket under a `ws` client: pausing it makes a client that never reads. */
const tcpOf = (ws: WebSocket) => (ws as unknown as { _socket: import("node:net").Socket })._socket;

describe("WebSocket limits on the socket as a whole", () => {
  it("a socket that never reads is closed 1008 naming --ws-max-buffer-bytes; its member leaves; others serve", async () => {
    const MAX = 64 * 1024;
    const { server, outcomes } = await serverWithOutcomes({
      ws: { maxBufferBytes: MAX },
      retention: 100_000,
    });
    // A room to replay: 3000 messages of 500 characters, about 1.6 MB per Subscribe.
    const text = "x".repeat(500);
    const posted = await chatClient(server.url).listener(
      (async function* () {
        for (let i = 0; i < 3000; i++) yield { room: "flood", author: "pump", text };
      })(),
    );
    expect(posted.accepted).toBe(3000n);

    const other = await raw(server);
    const stalled = await raw(server);
    await subscribe(stalled, 1, { room: "watched", author: "stalled" });
    expect(await members(server, "watched")).toEqual(["stalled"]);
    // From here on the client reads nothing; the kernel's buffers fill, then the server's.
    tcpOf(stalled.ws).pause();
    // Twenty replays of the room with all the credit a call may grant:
    // about 32 MB, more than loopback's TCP buffers take.
    for (let id = 2; id <= 21; id++) {
      stalled.ws.send(wsOpen(id, "Subscribe", { credit: 2 ** 32 - 1 }));
      stalled.ws.send(
        wsMessage(
          id,
          toBinary(
            SubscribeRequestSchema,
            create(SubscribeRequestSchema, { room: "flood", sinceSeq: 0n }),
          ),
        ),
      );
      stalled.ws.send(wsHalfClose(id));
    }
    const reason = `socket buffered over --ws-max-buffer-bytes (${MAX}); read faster`;
    const cut = `Subscribe 1 WebSocket closed by the server: ${reason}`;
    await waitUntil("the server to close the stalled socket", () =>
      outcomes.some((o) => o.startsWith(cut)),
    );
    // Read on at once (before the server gives up on the close handshake):
    // everything buffered, then the close frame.
    tcpOf(stalled.ws).resume();
    expect(await stalled.closed).toEqual({ code: 1008, reason });
    await waitUntil(
      "the stalled member to leave",
      async () => (await members(server, "watched")).length === 0,
    );
    expect(await wsEchoes(other, 1)).toBe("ok");
    // Every call the socket had started (each got HEADERS) ended with it;
    // OPENs read after the server gave up on the socket start nothing.
    const started = new Set(stalled.frames.filter((f) => f.type === 0x11).map((f) => f.id));
    expect(started.size).toBeGreaterThan(1);
    const subscribes = outcomes.filter((o) => o.startsWith("Subscribe "));
    expect(subscribes).toEqual(
      [...started].map(() => `Subscribe 1 WebSocket closed by the server: ${reason}`),
    );
  });

  it("a peer that stops answering pings is closed within two --heartbeat-ms and leaves its room", async () => {
    const HEARTBEAT_MS = 300;
    const { server } = await serverWithOutcomes({ heartbeatMs: HEARTBEAT_MS });
    const alive = await raw(server);
    const silent = await raw(server, { autoPong: false });
    const opened = Date.now();
    await subscribe(alive, 1, { room: "pings", author: "alive" });
    await subscribe(silent, 1, { room: "pings", author: "silent" });
    expect(await members(server, "pings")).toEqual(["alive", "silent"]);
    // Terminated, not closed: a peer that does not answer pings would not answer a close.
    const closed = await Promise.race([
      silent.closed,
      new Promise((resolve) => setTimeout(() => resolve("still open after 5 s"), 5000)),
    ]);
    expect(closed).toEqual({ code: 1006, reason: "" });
    const after = Date.now() - opened;
    // Pinged at the first tick, closed at the second: two intervals, with room for a busy machine.
    expect(after).toBeGreaterThanOrEqual(HEARTBEAT_MS);
    expect(after).toBeLessThan(HEARTBEAT_MS * 2 + 1000);
    await waitUntil(
      "the silent member to leave",
      async () => (await members(server, "pings")).length === 1,
    );
    expect(await members(server, "pings")).toEqual(["alive"]);
    // The peer that answers stays, through several more pings.
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 4));
    expect(await wsEchoes(alive, 2)).toBe("ok");
    expect(await members(server, "pings")).toEqual(["alive"]);
  });

  it("the upgrade one over --ws-max-sockets-per-address is refused 429 naming the flag; after a close one is taken", async () => {
    const { server } = await serverWithOutcomes({ ws: { maxSocketsPerAddress: 2 } });
    const first = await raw(server);
    const second = await raw(server);
    const refusal = {
      status: 429,
      body: "too many WebSockets from 127.0.0.1 (limit 2, --ws-max-sockets-per-address); one socket carries many calls\n",
    };
    expect(await tryUpgrade(server.url)).toEqual(refusal);
    // A refusal holds no place: the next attempt is refused the same way.
    expect(await tryUpgrade(server.url)).toEqual(refusal);
    expect(await wsEchoes(second, 1)).toBe("ok");
    first.ws.close();
    await first.closed;
    let taken: Awaited<ReturnType<typeof tryUpgrade>> = refusal;
    // The server counts the socket out when its side of the close is done.
    await waitUntil("an upgrade to be taken again", async () => {
      taken = await tryUpgrade(server.url);
      return taken.status !== 429;
    });
    expect(taken.status).toBe(101);
    onCleanup(() => taken.ws?.terminate());
    // Two open again (second and the one just taken): one more is refused.
    expect(await tryUpgrade(server.url)).toEqual(refusal);
  });
});
