import type { MessageInitShape as Init } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  ChatRequestSchema,
  EchoRequestSchema,
  ListenerRequestSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { messageSeqs, range, readUntil } from "../../helpers/streams.js";
import { ALL_TRANSPORTS, chatClient, startTestServer } from "../../helpers/test-server.js";

async function* items<T>(list: T[]): AsyncGenerator<T> {
  for (const item of list) yield item;
}

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

// Every method over every protocol and HTTP version a client can pick, against
// one real server on port 0. Each transport works in its own room.
describe.each(ALL_TRANSPORTS)("over %s", (transport) => {
  const room = `room-${transport}`;
  const isH2 = transport.endsWith("h2");

  it("Send stores a message and returns it with the next seq", async () => {
    const client = chatClient(server.url, transport);
    const first = await client.send({ room, author: "ann", text: "  hello  " });
    expect(first.duplicate).toBe(false);
    expect(first.message?.seq).toBe(1n);
    expect(first.message?.text).toBe("hello");
    expect(first.message?.author).toBe("ann");
    expect(first.message?.room).toBe(room);
    expect(first.message?.id).toMatch(/^[0-9a-f-]{36}$/);
    const second = await client.send({ room, author: "bob", text: "hi", clientMessageId: "c-1" });
    expect(second.message?.seq).toBe(2n);
    const retry = await client.send({ room, author: "bob", text: "hi", clientMessageId: "c-1" });
    expect(retry.duplicate).toBe(true);
    expect(retry.message?.seq).toBe(2n);
    expect(retry.message?.id).toBe(second.message?.id);
  });

  it("Listener stores a stream of messages and returns the summary", async () => {
    const client = chatClient(server.url, transport);
    const requests: Init<typeof ListenerRequestSchema>[] = [
      { room, author: "cat", text: "one" },
      { text: "two" },
      { room: `${room}-other`, text: "elsewhere" },
      { room, author: "dan", text: "three" },
    ];
    const summary = await client.listener(items(requests));
    expect(summary.accepted).toBe(4n);
    expect(summary.firstSeq).toBe(3n);
    expect(summary.lastSeq).toBe(5n);
    expect(summary.rooms.map((r) => [r.room, r.accepted, r.firstSeq, r.lastSeq])).toEqual([
      [room, 3n, 3n, 5n],
      [`${room}-other`, 1n, 1n, 1n],
    ]);
  });

  it("History pages by seq with a read mask", async () => {
    const client = chatClient(server.url, transport);
    const all = await client.history({ room });
    expect(all.messages.map((m) => Number(m.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(all.messages.map((m) => `${m.author}:${m.text}`)).toEqual([
      "ann:hello",
      "bob:hi",
      "cat:one",
      "cat:two",
      "dan:three",
    ]);
    expect(all.lastSeq).toBe(5n);
    expect(all.firstSeq).toBe(1n);
    expect(all.hasMore).toBe(false);
    expect(all.epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);

    const older = await client.history({ room, beforeSeq: 5n, limit: 2 });
    expect(older.messages.map((m) => Number(m.seq))).toEqual([3, 4]);
    expect(older.hasMore).toBe(true);
    const newer = await client.history({ room, afterSeq: 1n, limit: 3 });
    expect(newer.messages.map((m) => Number(m.seq))).toEqual([2, 3, 4]);
    expect(newer.hasMore).toBe(true);
    const between = await client.history({ room, afterSeq: 1n, beforeSeq: 4n });
    expect(between.messages.map((m) => Number(m.seq))).toEqual([2, 3]);
    expect(between.hasMore).toBe(false);

    const masked = await client.history({ room, limit: 1, readMask: { paths: ["seq", "text"] } });
    expect(masked.messages).toHaveLength(1);
    expect(masked.messages[0]?.seq).toBe(5n);
    expect(masked.messages[0]?.text).toBe("three");
    expect(masked.messages[0]?.author).toBe("");
    expect(masked.messages[0]?.id).toBe("");
    expect(masked.messages[0]?.sentAt).toBeUndefined();
  });

  it("Subscribe replays after since_seq, then delivers live messages", async () => {
    const client = chatClient(server.url, transport);
    const abort = new AbortController();
    const stream = client.subscribe({ room, sinceSeq: 2n }, { signal: abort.signal });
    const it = stream[Symbol.asyncIterator]();
    const start = await readUntil(it, (seen) => messageSeqs(seen).length >= 3);
    expect(start[0]?.event.case).toBe("ready");
    const ready = start[0]?.event.case === "ready" ? start[0].event.value : undefined;
    expect(ready?.lastSeq).toBe(5n);
    expect(ready?.room).toBe(room);
    expect(messageSeqs(start)).toEqual([3, 4, 5]);

    await client.send({ room, author: "eve", text: "live" });
    const live = await readUntil(it, (seen) => messageSeqs(seen).length >= 1);
    expect(messageSeqs(live)).toEqual([6]);
    const message = live.find((e) => e.event.case === "message");
    expect(message?.event.case === "message" && message.event.value.text).toBe("live");
    abort.abort();
  });

  // Bidi needs HTTP/2: these two run on the h2 transports, the refusal below on h1.
  if (isH2) {
    it("Echo returns each request with a per-stream seq", async () => {
      const client = chatClient(server.url, transport);
      const before = Date.now();
      const requests: Init<typeof EchoRequestSchema>[] = [
        { text: "a" },
        { text: "b" },
        { text: "c" },
      ];
      const replies = [];
      for await (const reply of client.echo(items(requests))) replies.push(reply);
      expect(replies.map((r) => [r.text, r.seq])).toEqual([
        ["a", 1n],
        ["b", 2n],
        ["c", 3n],
      ]);
      for (const r of replies) {
        const ms = Number(r.receivedAt?.seconds ?? 0n) * 1000 + (r.receivedAt?.nanos ?? 0) / 1e6;
        expect(ms).toBeGreaterThanOrEqual(before - 1);
        expect(ms).toBeLessThanOrEqual(Date.now() + 1);
      }
    });

    it("Chat joins, posts and receives its own messages in order", async () => {
      const client = chatClient(server.url, transport);
      const abort = new AbortController();
      let release: () => void = () => {};
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      async function* requests(): AsyncGenerator<Init<typeof ChatRequestSchema>> {
        yield { action: { case: "join", value: { room, author: "fay", sinceSeq: 5n } } };
        yield { action: { case: "post", value: { text: "from chat", clientMessageId: "chat-1" } } };
        await hold;
      }
      const it = client.chat(requests(), { signal: abort.signal })[Symbol.asyncIterator]();
      const seen = await readUntil(it, (s) => messageSeqs(s).length >= 2);
      expect(seen[0]?.event.case).toBe("ready");
      expect(messageSeqs(seen)).toEqual([6, 7]);
      const mine = seen.filter((e) => e.event.case === "message").at(-1);
      expect(mine?.event.case === "message" && mine.event.value).toMatchObject({
        author: "fay",
        text: "from chat",
        clientMessageId: "chat-1",
      });
      release();
      abort.abort();
    });
  } else {
    it("bidi methods refuse HTTP/1.1 with a clear error instead of hanging", async () => {
      const client = chatClient(server.url, transport);
      const err = await (async () => {
        try {
          for await (const _ of client.echo(
            items<Init<typeof EchoRequestSchema>>([{ text: "x" }]),
          )) {
            // unreachable: the server refuses the call
          }
        } catch (e) {
          return ConnectError.from(e);
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ConnectError);
      expect(err?.code).toBe(Code.Unknown);
      expect(err?.rawMessage).toMatch(/505/);
    });
  }
});

describe("every message of a room, whichever protocol wrote it", () => {
  it("is one gapless log", async () => {
    const room = "shared-log";
    await Promise.all(
      ALL_TRANSPORTS.map(async (t, i) => {
        for (let n = 0; n < 5; n++) {
          await chatClient(server.url, t).send({ room, author: `w${i}`, text: `m${n}` });
        }
      }),
    );
    const history = await chatClient(server.url).history({ room, limit: 100 });
    expect(history.messages.map((m) => Number(m.seq))).toEqual(range(1, 25));
  });
});
