import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { CallPolicy } from "../../../src/calls/call-policy.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import {
  createWebSocketTransport,
  type WebSocketTransport,
} from "../../../src/client/ws-transport.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// Issue 18 point 3: the generated client, unchanged, over the WebSocket
// transport: every method answers exactly, and many calls share one socket.

const CLOCK_MS = 1_790_000_000_123;
let server: ParleyServer;
let transport: WebSocketTransport;
/** "method protocol peer code" of every finished call, as the policy chain saw it. */
const seen: string[] = [];
const record: CallPolicy = {
  finished(call, error) {
    const code = error === undefined ? "ok" : ConnectError.from(error).code;
    seen.push(`${call.method.name} ${call.protocol} ${call.adapter} ${call.peer} ${code}`);
  },
};

beforeAll(async () => {
  server = await startTestServer({}, { policies: [record], now: () => CLOCK_MS });
  transport = createWebSocketTransport({
    baseUrl: server.url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
});
afterAll(async () => {
  transport.close();
  await server.stop();
});

const client = () => createClient(ChatService, transport);

async function* from<T>(...items: T[]) {
  for (const item of items) yield item;
}

describe("the generated client over the WebSocket transport", () => {
  it("Send and History answer exactly", async () => {
    const sent = await client().send({ room: "ws-unary", author: "ann", text: "hello" });
    expect([sent.duplicate, sent.message?.seq, sent.message?.text, sent.message?.author]).toEqual([
      false,
      1n,
      "hello",
      "ann",
    ]);
    const history = await client().history({ room: "ws-unary", limit: 10 });
    expect(history.messages.map((m) => [m.seq, m.text])).toEqual([[1n, "hello"]]);
    expect(history.lastSeq).toBe(1n);
  });

  it("Listener (client stream) stores every message and returns the summary", async () => {
    const summary = await client().listener(
      from(
        { room: "ws-listen", author: "ann", text: "a" },
        { room: "ws-listen", author: "ann", text: "b" },
        { room: "ws-listen", author: "bob", text: "c" },
      ),
    );
    expect([summary.accepted, summary.firstSeq, summary.lastSeq]).toEqual([3n, 1n, 3n]);
    const history = await client().history({ room: "ws-listen", limit: 10 });
    expect(history.messages.map((m) => `${m.author}:${m.text}`)).toEqual([
      "ann:a",
      "ann:b",
      "bob:c",
    ]);
  });

  it("Echo (bidi) answers each message in order, with the server's clock", async () => {
    const answers = [];
    for await (const r of client().echo(from({ text: "a" }, { text: "bé" }, { text: "🙂" }))) {
      answers.push([r.text, r.seq, r.receivedAt?.seconds]);
    }
    const seconds = BigInt(Math.floor(CLOCK_MS / 1000));
    expect(answers).toEqual([
      ["a", 1n, seconds],
      ["bé", 2n, seconds],
      ["🙂", 3n, seconds],
    ]);
  });

  it("Chat (bidi): join, post and receive on one stream", async () => {
    const ac = new AbortController();
    async function* actions() {
      yield { action: { case: "join" as const, value: { room: "ws-chat", author: "ann" } } };
      yield { action: { case: "post" as const, value: { text: "over the socket" } } };
      await new Promise((resolve) => ac.signal.addEventListener("abort", resolve));
    }
    const kinds: string[] = [];
    for await (const r of client().chat(actions(), { signal: ac.signal })) {
      for (const e of r.events) {
        kinds.push(
          e.event.case === "message"
            ? `message ${e.event.value.seq} ${e.event.value.text}`
            : `${e.event.case}`,
        );
      }
      if (kinds.some((k) => k.startsWith("message"))) break;
    }
    ac.abort();
    expect(kinds.filter((k) => k.startsWith("message"))).toEqual(["message 1 over the socket"]);
    expect(kinds[0]).toBe("ready");
  });

  it("Subscribe resumes from a seq, then goes live", async () => {
    await client().send({ room: "ws-sub", author: "ann", text: "one" });
    const ac = new AbortController();
    const got: string[] = [];
    const stream = client().subscribe({ room: "ws-sub", sinceSeq: 0n }, { signal: ac.signal });
    let sentLive = false;
    try {
      for await (const r of stream) {
        for (const e of r.events) {
          if (e.event.case === "ready") got.push(`ready ${e.event.value.lastSeq}`);
          if (e.event.case === "message") got.push(`${e.event.value.seq} ${e.event.value.text}`);
        }
        if (!sentLive && got.includes("1 one")) {
          sentLive = true;
          await client().send({ room: "ws-sub", author: "bob", text: "two" });
        }
        if (got.includes("2 two")) ac.abort();
      }
    } catch (error) {
      expect(ConnectError.from(error).code).toBe(Code.Canceled);
    }
    expect(got).toEqual(["ready 1", "1 one", "2 two"]);
  });

  it("a refusal carries the same code and message as connect", async () => {
    const bad = { room: "Bad Room!", author: "ann", text: "x" };
    const overWs = await client()
      .send(bad)
      .catch((e: unknown) => ConnectError.from(e));
    const overConnect = await chatClient(server.url)
      .send(bad)
      .catch((e: unknown) => ConnectError.from(e));
    expect(overWs).toBeInstanceOf(ConnectError);
    expect([(overWs as ConnectError).code, (overWs as ConnectError).rawMessage]).toEqual([
      Code.InvalidArgument,
      (overConnect as ConnectError).rawMessage,
    ]);
    expect((overConnect as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("20 subscriptions and an Echo share one socket; a slow Subscribe does not hold up the Echo", async () => {
    const own = createWebSocketTransport({
      baseUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      credit: 2,
    });
    const rpc = createClient(ChatService, own);
    const ac = new AbortController();
    const before = seen.length;
    // Twenty subscriptions, none of them read past `ready`: their credit runs out.
    const subs = Array.from({ length: 20 }, (_, i) =>
      rpc.subscribe({ room: `ws-many-${i}` }, { signal: ac.signal })[Symbol.asyncIterator](),
    );
    for (const sub of subs) expect((await sub.next()).value?.events[0]?.event.case).toBe("ready");
    for (let i = 0; i < 10; i++)
      await client().send({ room: "ws-many-0", author: "ann", text: `m${i}` });
    const echoed = [];
    for await (const r of rpc.echo(from({ text: "still fast" }))) echoed.push(r.text);
    expect(echoed).toEqual(["still fast"]);
    ac.abort();
    own.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The ten Sends went over the suite's other transport, its own socket.
    const calls = seen.slice(before).filter((line) => !line.startsWith("Send "));
    expect(calls).toHaveLength(21);
    const peers = new Set(calls.map((line) => line.split(" ")[3]));
    expect(peers.size).toBe(1);
    expect(calls.every((line) => line.includes(" websocket websocket "))).toBe(true);
  });
});
