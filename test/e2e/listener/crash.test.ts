import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, expect, it } from "vitest";
import type { ChatMessage, SendResponse } from "../../../gen/chat/v1/chat_pb.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { range } from "../../helpers/streams.js";
import { chatClient } from "../../helpers/test-server.js";

type Client = ReturnType<typeof chatClient>;

const children: SpawnedServer[] = [];
const dirs: string[] = [];

function running(s: SpawnedServer): boolean {
  return s.process.exitCode === null && s.process.signalCode === null;
}

afterEach(async () => {
  // No child outlives a test, whatever failed.
  for (const s of children.splice(0)) {
    if (running(s)) s.process.kill("SIGKILL");
    await s.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dbPath: string): Promise<SpawnedServer> {
  const server = await spawnServer([
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--store",
    `sqlite:${dbPath}`,
  ]);
  children.push(server);
  return server;
}

/** Every stored message of a room, walking History forward with after_seq (pages of `limit`). */
async function allHistory(client: Client, room: string, limit: number): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  let after = 0n;
  for (;;) {
    const page = await client.history({ room, afterSeq: after, limit });
    out.push(...page.messages);
    const last = page.messages[page.messages.length - 1];
    if (!page.hasMore || !last) return out;
    after = last.seq;
  }
}

/** The parts of a message that must survive a crash unchanged. */
function essence(m: ChatMessage | undefined) {
  return {
    room: m?.room,
    seq: m?.seq,
    id: m?.id,
    author: m?.author,
    text: m?.text,
    clientMessageId: m?.clientMessageId,
    sentAtSeconds: m?.sentAt?.seconds,
    sentAtNanos: m?.sentAt?.nanos,
  };
}

it("keeps every acknowledged Send across kill -9 and continues the log", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-crash-"));
  dirs.push(dir);
  const dbPath = join(dir, "parley.db");
  const room = "crash-room";
  const inflightRoom = "crash-inflight";

  const first = await start(dbPath);
  const c1 = chatClient(first.url);
  const acked: SendResponse[] = [];
  const send = async (text: string, author: string, clientMessageId = "") => {
    const res = await c1.send({ room, author, text, clientMessageId });
    acked.push(res);
    return res;
  };

  // 1-50: one at a time, so their seqs are known in advance.
  for (const i of range(1, 50)) {
    const res = await send(`seq ${i} ✓`, "serial", i % 5 === 0 ? `serial-${i}` : "");
    expect(res.duplicate).toBe(false);
    expect(res.message?.seq).toBe(BigInt(i));
  }
  // 51-150: 100 at once; the server picks their order.
  const concurrent = await Promise.all(
    range(1, 100).map((i) =>
      send(`burst ${i} 🚀 ünïcødé`, `burst-${i % 4}`, i % 3 === 0 ? `burst-${i}` : ""),
    ),
  );
  expect(concurrent.every((r) => !r.duplicate)).toBe(true);
  expect(concurrent.map((r) => Number(r.message?.seq)).sort((x, y) => x - y)).toEqual(
    range(51, 150),
  );
  // 151-200: four waves of concurrent sends, every other one with a key.
  for (const wave of range(0, 4)) {
    await Promise.all(
      range(1, wave === 4 ? 2 : 12).map((i) =>
        send(`wave ${wave}.${i} 日本`, "wave", i % 2 === 0 ? `wave-${wave}-${i}` : ""),
      ),
    );
  }
  // A retry before the crash: answered, not stored.
  const earlyRetry = await c1.send({
    room,
    author: "serial",
    text: "seq 10 ✓",
    clientMessageId: "serial-10",
  });
  expect(earlyRetry.duplicate).toBe(true);
  expect(earlyRetry.message?.seq).toBe(10n);

  const N = 200;
  expect(acked).toHaveLength(N);
  const ackedSeqs = acked.map((r) => Number(r.message?.seq)).sort((x, y) => x - y);
  expect(ackedSeqs).toEqual(range(1, N));
  const before = await c1.history({ room, limit: 1 });
  expect(before.lastSeq).toBe(BigInt(N));
  const epoch = before.epoch;
  expect(epoch.length).toBeGreaterThan(0);

  // Sends still in flight at the kill: whatever was acknowledged must survive.
  const inflightAcked: SendResponse[] = [];
  const inflight = range(1, 60).map((i) =>
    c1
      .send({ room: inflightRoom, author: "late", text: `late ${i}`, clientMessageId: `late-${i}` })
      .then(
        (res) => {
          inflightAcked.push(res);
        },
        () => {},
      ),
  );
  await new Promise<void>((resolve) => {
    const poll = () => (inflightAcked.length > 0 ? resolve() : setTimeout(poll, 1));
    poll();
  });

  first.process.kill("SIGKILL");
  expect(await first.exited).toBe("SIGKILL");
  await Promise.all(inflight);

  const second = await start(dbPath);
  const c2 = chatClient(second.url);

  const after = await allHistory(c2, room, 1000);
  expect(after.map((m) => Number(m.seq))).toEqual(range(1, N));
  for (const res of acked) {
    const seq = Number(res.message?.seq);
    expect(essence(after[seq - 1])).toEqual(essence(res.message));
  }
  const head = await c2.history({ room, limit: 1 });
  expect(head.epoch).toBe(epoch);
  expect(head.lastSeq).toBe(BigInt(N));
  expect(head.firstSeq).toBe(1n);

  // Forward paging with after_seq and has_more over the same log.
  const pages: Array<[number[], boolean]> = [];
  let cursor = 50n;
  for (;;) {
    const page = await c2.history({ room, afterSeq: cursor, limit: 50 });
    pages.push([page.messages.map((m) => Number(m.seq)), page.hasMore]);
    const last = page.messages[page.messages.length - 1];
    if (!page.hasMore || !last) break;
    cursor = last.seq;
  }
  expect(pages).toEqual([
    [range(51, 100), true],
    [range(101, 150), true],
    [range(151, 200), false],
  ]);

  // The in-flight room: gapless, and every acknowledged send is there unchanged.
  const late = await allHistory(c2, inflightRoom, 1000);
  const lateSeqs = late.map((m) => Number(m.seq));
  expect(lateSeqs).toEqual(range(1, late.length));
  expect(late.length).toBeGreaterThanOrEqual(inflightAcked.length);
  for (const res of inflightAcked) {
    expect(essence(late[Number(res.message?.seq) - 1])).toEqual(essence(res.message));
  }
  expect(new Set(late.map((m) => m.clientMessageId)).size).toBe(late.length);

  // A retry of an acknowledged keyed Send: the original, nothing stored.
  const keyed = concurrent.find((r) => r.message?.clientMessageId === "burst-42");
  expect(keyed?.message?.clientMessageId).toBe("burst-42");
  const retry = await c2.send({
    room,
    author: keyed?.message?.author ?? "",
    text: keyed?.message?.text ?? "",
    clientMessageId: "burst-42",
  });
  expect(retry.duplicate).toBe(true);
  expect(essence(retry.message)).toEqual(essence(keyed?.message));

  const serialRetry = await c2.send({
    room,
    author: "serial",
    text: "seq 25 ✓",
    clientMessageId: "serial-25",
  });
  expect(serialRetry.duplicate).toBe(true);
  expect(serialRetry.message?.seq).toBe(25n);
  // The key survived the crash with its payload: another text is refused.
  const conflict = await c2
    .send({ room, author: "serial", text: "different text", clientMessageId: "serial-25" })
    .then(() => undefined, ConnectError.from);
  expect(conflict?.code).toBe(Code.AlreadyExists);

  const next = await c2.send({ room, author: "after", text: "first after the crash" });
  expect(next.duplicate).toBe(false);
  expect(next.message?.seq).toBe(BigInt(N + 1));
  const end = await c2.history({ room, limit: 2 });
  expect(end.epoch).toBe(epoch);
  expect(end.lastSeq).toBe(BigInt(N + 1));
  expect(end.messages.map((m) => [Number(m.seq), m.text])).toEqual([
    [N, acked.find((r) => r.message?.seq === BigInt(N))?.message?.text],
    [N + 1, "first after the crash"],
  ]);

  const lateNext = await c2.send({ room: inflightRoom, author: "late", text: "after" });
  expect(lateNext.message?.seq).toBe(BigInt(late.length + 1));

  second.process.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});
