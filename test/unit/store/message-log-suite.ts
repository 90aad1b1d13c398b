import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import type {
  AppendResult,
  MessageLog,
  NewMessage,
  ReadRange,
  StoredMessage,
} from "../../../src/store/message-log.js";
import { range } from "../../helpers/streams.js";

/** Opens a fresh, empty store that keeps the newest `retention` messages of each room. */
export type OpenLog = (retention: number) => MessageLog | Promise<MessageLog>;

/** Retention large enough that no test here trims anything unless it asks to. */
const KEEP_ALL = 100_000;

function msg(text: string, clientMessageId = "", author = "alice"): NewMessage {
  return { author, text, clientMessageId };
}

function rng(afterSeq: number, beforeSeq: number, limit: number, newest: boolean): ReadRange {
  return { afterSeq, beforeSeq, limit, newest };
}

const ALL: ReadRange = rng(0, 0, KEEP_ALL, false);

function seqs(messages: readonly StoredMessage[]): number[] {
  return messages.map((m) => m.seq);
}

/** The ConnectError a call fails with; fails the test if it succeeds. */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error("expected the append to fail, but it succeeded");
}

/** Append sequentially, awaiting each append. */
async function appendAll(
  log: MessageLog,
  room: string,
  texts: readonly string[],
): Promise<AppendResult[]> {
  const results: AppendResult[] = [];
  for (const text of texts) results.push(await log.append(room, msg(text)));
  return results;
}

/**
 * The MessageLog conformance suite: every promise of src/store/message-log.ts,
 * checked against one engine. `open` must return a new, empty store each time;
 * `cleanup` runs after each test, once the stores it opened are closed.
 */
export function describeMessageLog(
  name: string,
  open: OpenLog,
  cleanup: () => void | Promise<void> = () => {},
): void {
  describe(`MessageLog conformance: ${name}`, () => {
    const opened: MessageLog[] = [];

    async function fresh(retention = KEEP_ALL): Promise<MessageLog> {
      const log = await open(retention);
      opened.push(log);
      return log;
    }

    afterEach(async () => {
      const logs = opened.splice(0);
      for (const log of logs) await log.close();
      await cleanup();
    });

    describe("seqs", () => {
      it("numbers each room 1, 2, 3 … with no holes, independently per room", async () => {
        const log = await fresh();
        const got: Array<[string, number]> = [];
        for (const room of ["a", "b", "a", "a", "c", "b", "a", "c", "a"]) {
          const r = await log.append(room, msg(`to ${room}`));
          expect(r.duplicate).toBe(false);
          expect(r.message.room).toBe(room);
          got.push([room, r.message.seq]);
        }
        expect(got).toEqual([
          ["a", 1],
          ["b", 1],
          ["a", 2],
          ["a", 3],
          ["c", 1],
          ["b", 2],
          ["a", 4],
          ["c", 2],
          ["a", 5],
        ]);
        expect(seqs(await log.read("a", ALL))).toEqual([1, 2, 3, 4, 5]);
        expect(seqs(await log.read("b", ALL))).toEqual([1, 2]);
        expect(seqs(await log.read("c", ALL))).toEqual([1, 2]);
        expect(await log.head("a")).toMatchObject({ lastSeq: 5, firstSeq: 1 });
        expect(await log.head("b")).toMatchObject({ lastSeq: 2, firstSeq: 1 });
        expect(await log.head("c")).toMatchObject({ lastSeq: 2, firstSeq: 1 });
      });

      it("resolves 500 appends started in one tick in call order with consecutive seqs", async () => {
        const log = await fresh();
        const resolvedOrder: number[] = [];
        const pending = range(0, 499).map((i) =>
          log.append("burst", msg(`m${i}`)).then((r) => {
            resolvedOrder.push(i);
            return r;
          }),
        );
        const results = await Promise.all(pending);

        expect(resolvedOrder).toEqual(range(0, 499));
        expect(results.map((r) => r.message.seq)).toEqual(range(1, 500));
        expect(results.map((r) => r.message.text)).toEqual(range(0, 499).map((i) => `m${i}`));
        expect(results.every((r) => !r.duplicate)).toBe(true);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(500);

        const stored = await log.read("burst", ALL);
        expect(stored).toEqual(results.map((r) => r.message));
        expect(await log.head("burst")).toMatchObject({ lastSeq: 500, firstSeq: 1 });
      });

      it("keeps call order and consecutive seqs per room when one tick interleaves rooms", async () => {
        const log = await fresh();
        const rooms = ["r0", "r1", "r2", "r3"];
        const resolvedOrder = new Map<string, number[]>(rooms.map((r) => [r, []]));
        const calls = range(0, 399).map((i) => {
          const room = rooms[i % rooms.length] as string;
          return log.append(room, msg(`${room}-${i}`)).then((r) => {
            resolvedOrder.get(room)?.push(i);
            return { room, i, r };
          });
        });
        const results = await Promise.all(calls);

        for (const [k, room] of rooms.entries()) {
          const mine = results.filter((x) => x.room === room);
          const callOrder = mine.map((x) => x.i);
          expect(callOrder).toEqual(range(0, 99).map((n) => n * rooms.length + k));
          expect(resolvedOrder.get(room)).toEqual(callOrder);
          expect(mine.map((x) => x.r.message.seq)).toEqual(range(1, 100));
          expect(mine.map((x) => x.r.message.room)).toEqual(mine.map(() => room));
          const stored = await log.read(room, ALL);
          expect(stored).toEqual(mine.map((x) => x.r.message));
          expect(stored.map((m) => m.text)).toEqual(callOrder.map((i) => `${room}-${i}`));
          expect(await log.head(room)).toMatchObject({ lastSeq: 100, firstSeq: 1 });
        }
      });
    });

    describe("head and epoch", () => {
      it("answers an unknown room as empty, naming the epoch its first append keeps (or none), and lists it only once written (issue 11 point 7)", async () => {
        const log = await fresh();
        const before = await log.head("fresh-room");
        expect(before).toEqual({ epoch: before.epoch, lastSeq: 0, firstSeq: 0 });
        expect(await log.read("fresh-room", ALL)).toEqual([]);
        expect(await log.listRooms("", 100)).toEqual([]);
        expect(await log.head("fresh-room")).toEqual(before);

        const r = await log.append("fresh-room", msg("hello"));
        expect(r.message.seq).toBe(1);
        const created = await log.head("fresh-room");
        expect(created.epoch).not.toBe("");
        // An engine that can name the epoch before the first write names this one;
        // one that cannot (Redis) answers "" until then.
        expect([before.epoch === created.epoch, before.epoch === ""]).toContain(true);
        expect(created).toEqual({ epoch: created.epoch, lastSeq: 1, firstSeq: 1 });
        await log.append("fresh-room", msg("again"));
        expect(await log.head("fresh-room")).toEqual({
          epoch: created.epoch,
          lastSeq: 2,
          firstSeq: 1,
        });
        expect((await log.listRooms("", 100)).map((l) => l.room)).toEqual(["fresh-room"]);
      });

      it("answers 2,000 rooms that were only read as empty, and lists none of them", async () => {
        const log = await fresh();
        const names = range(1, 2000).map((i) => `ghost-${i}`);
        for (const n of names) {
          await log.head(n);
          await log.read(n, ALL);
        }
        const heads = await Promise.all(names.map((n) => log.head(n)));
        expect(heads.filter((h) => h.lastSeq !== 0 || h.firstSeq !== 0)).toEqual([]);
        expect(await log.listRooms("", 1000)).toEqual([]);
      });

      it("gives a room first touched by append the same epoch on every head", async () => {
        const log = await fresh();
        await log.append("by-append", msg("x"));
        const h1 = await log.head("by-append");
        await log.append("by-append", msg("y"));
        const h2 = await log.head("by-append");
        expect(h1.epoch.length).toBeGreaterThan(0);
        expect(h2).toEqual({ epoch: h1.epoch, lastSeq: 2, firstSeq: 1 });
      });

      it("gives different rooms different epochs", async () => {
        const log = await fresh();
        const names = ["e1", "e2", "e3", "e4", "e5"];
        const epochs = [];
        for (const n of names) {
          await log.append(n, msg("first"));
          epochs.push((await log.head(n)).epoch);
        }
        expect(new Set(epochs).size).toBe(names.length);
      });
    });

    describe("read", () => {
      async function tenMessages(): Promise<{ log: MessageLog; all: StoredMessage[] }> {
        const log = await fresh();
        const results = await appendAll(
          log,
          "ten",
          range(1, 10).map((i) => `t${i}`),
        );
        return { log, all: results.map((r) => r.message) };
      }

      it("afterSeq only: the oldest `limit` messages with seq > afterSeq", async () => {
        const { log, all } = await tenMessages();
        expect(await log.read("ten", rng(0, 0, 100, false))).toEqual(all);
        expect(seqs(await log.read("ten", rng(3, 0, 4, false)))).toEqual([4, 5, 6, 7]);
        expect(seqs(await log.read("ten", rng(0, 0, 3, false)))).toEqual([1, 2, 3]);
        expect(seqs(await log.read("ten", rng(8, 0, 5, false)))).toEqual([9, 10]);
        expect(seqs(await log.read("ten", rng(9, 0, 1, false)))).toEqual([10]);
        expect(await log.read("ten", rng(10, 0, 5, false))).toEqual([]);
        expect(await log.read("ten", rng(50, 0, 5, false))).toEqual([]);
        expect(await log.read("ten", rng(3, 0, 4, false))).toEqual(all.slice(3, 7));
      });

      it("beforeSeq only, newest: the newest `limit` messages with seq < beforeSeq", async () => {
        const { log, all } = await tenMessages();
        expect(seqs(await log.read("ten", rng(0, 8, 3, true)))).toEqual([5, 6, 7]);
        expect(seqs(await log.read("ten", rng(0, 3, 10, true)))).toEqual([1, 2]);
        expect(seqs(await log.read("ten", rng(0, 2, 1, true)))).toEqual([1]);
        expect(seqs(await log.read("ten", rng(0, 11, 2, true)))).toEqual([9, 10]);
        expect(seqs(await log.read("ten", rng(0, 100, 2, true)))).toEqual([9, 10]);
        expect(await log.read("ten", rng(0, 1, 5, true))).toEqual([]);
        expect(await log.read("ten", rng(0, 8, 3, true))).toEqual(all.slice(4, 7));
      });

      it("both bounds: the messages strictly between them", async () => {
        const { log, all } = await tenMessages();
        expect(seqs(await log.read("ten", rng(2, 9, 3, false)))).toEqual([3, 4, 5]);
        expect(seqs(await log.read("ten", rng(2, 9, 100, false)))).toEqual([3, 4, 5, 6, 7, 8]);
        expect(seqs(await log.read("ten", rng(2, 9, 3, true)))).toEqual([6, 7, 8]);
        expect(seqs(await log.read("ten", rng(4, 6, 10, false)))).toEqual([5]);
        expect(await log.read("ten", rng(5, 6, 10, false))).toEqual([]);
        expect(await log.read("ten", rng(5, 5, 10, false))).toEqual([]);
        expect(await log.read("ten", rng(7, 3, 10, false))).toEqual([]);
        expect(await log.read("ten", rng(7, 3, 10, true))).toEqual([]);
        expect(await log.read("ten", rng(20, 30, 10, false))).toEqual([]);
        expect(await log.read("ten", rng(2, 9, 3, false))).toEqual(all.slice(2, 5));
      });

      it("neither bound, newest: the newest `limit` messages", async () => {
        const { log, all } = await tenMessages();
        expect(seqs(await log.read("ten", rng(0, 0, 3, true)))).toEqual([8, 9, 10]);
        expect(seqs(await log.read("ten", rng(0, 0, 1, true)))).toEqual([10]);
        expect(await log.read("ten", rng(0, 0, 10, true))).toEqual(all);
        expect(await log.read("ten", rng(0, 0, 1000, true))).toEqual(all);
        expect(await log.read("ten", rng(0, 0, 3, true))).toEqual(all.slice(7));
      });

      it("returns nothing for limit 0", async () => {
        const { log } = await tenMessages();
        expect(await log.read("ten", rng(0, 0, 0, true))).toEqual([]);
        expect(await log.read("ten", rng(3, 0, 0, false))).toEqual([]);
        expect(await log.read("ten", rng(0, 8, 0, true))).toEqual([]);
      });

      it("returns [] for an unknown room in every range shape, without throwing", async () => {
        const log = await fresh();
        await log.append("known", msg("not in the unknown room"));
        for (const shape of [
          rng(5, 0, 10, false),
          rng(0, 5, 10, true),
          rng(1, 5, 10, false),
          rng(0, 0, 10, true),
          rng(0, 0, 10, false),
        ]) {
          await expect(log.read("never-seen", shape)).resolves.toEqual([]);
        }
      });

      it("returns [] for a room that exists but has no messages", async () => {
        const log = await fresh();
        await log.head("empty");
        expect(await log.read("empty", rng(0, 0, 10, true))).toEqual([]);
        expect(await log.read("empty", rng(0, 0, 10, false))).toEqual([]);
        expect(await log.read("empty", rng(0, 5, 10, true))).toEqual([]);
      });
    });

    describe("idempotency", () => {
      it("returns the original for a repeated clientMessageId and stores nothing", async () => {
        const log = await fresh();
        const original = await log.append("idem", msg("first", "key-1", "alice"));
        expect(original.duplicate).toBe(false);
        expect(original.message.seq).toBe(1);
        const headBefore = await log.head("idem");

        const retry = await log.append("idem", msg("first", "key-1", "alice"));
        expect(retry).toEqual({ duplicate: true, message: original.message });

        expect(await log.head("idem")).toEqual(headBefore);
        expect(await log.read("idem", ALL)).toEqual([original.message]);

        const next = await log.append("idem", msg("third", "key-2"));
        expect(next).toMatchObject({ duplicate: false, message: { seq: 2, text: "third" } });

        const retryAgain = await log.append("idem", msg("first", "key-1"));
        expect(retryAgain).toEqual({ duplicate: true, message: original.message });
        expect(await log.head("idem")).toEqual({ ...headBefore, lastSeq: 2 });
      });

      it("refuses a repeated clientMessageId with another text or author (ALREADY_EXISTS), storing nothing", async () => {
        const log = await fresh();
        const original = await log.append("idem-x", msg("first", "key-1", "alice"));
        const headBefore = await log.head("idem-x");
        const otherText = await failure(log.append("idem-x", msg("second", "key-1", "alice")));
        expect([otherText.code, otherText.rawMessage]).toEqual([
          Code.AlreadyExists,
          'client_message_id: "key-1" already names message 1 in room "idem-x", which has another text; a retry must repeat the message exactly, and a new message needs a new key',
        ]);
        const otherAuthor = await failure(log.append("idem-x", msg("first", "key-1", "bob")));
        expect([otherAuthor.code, otherAuthor.rawMessage]).toEqual([
          Code.AlreadyExists,
          'client_message_id: "key-1" already names message 1 in room "idem-x", which has another author; a retry must repeat the message exactly, and a new message needs a new key',
        ]);
        expect(await log.head("idem-x")).toEqual(headBefore);
        expect(await log.read("idem-x", ALL)).toEqual([original.message]);
        // The exact retry is still answered with the original.
        expect(await log.append("idem-x", msg("first", "key-1", "alice"))).toEqual({
          duplicate: true,
          message: original.message,
        });
      });

      it("forgets a key once its message is trimmed by retention", async () => {
        const log = await fresh(2);
        await log.append("idem-t", msg("first", "key-1"));
        await log.append("idem-t", msg("second"));
        await log.append("idem-t", msg("third"));
        // Message 1 is gone, and its key with it: the same key stores a new message.
        const reused = await log.append("idem-t", msg("another", "key-1"));
        expect(reused).toMatchObject({ duplicate: false, message: { seq: 4, text: "another" } });
      });

      it("stores the same clientMessageId again in another room", async () => {
        const log = await fresh();
        const inA = await log.append("room-a", msg("hello", "shared-key"));
        const inB = await log.append("room-b", msg("hello", "shared-key"));
        expect(inB.duplicate).toBe(false);
        expect(inB.message).toMatchObject({
          room: "room-b",
          seq: 1,
          text: "hello",
          clientMessageId: "shared-key",
        });
        expect(inB.message.id).not.toBe(inA.message.id);
        expect(await log.read("room-a", ALL)).toEqual([inA.message]);
        expect(await log.read("room-b", ALL)).toEqual([inB.message]);
      });

      it("never dedupes an empty clientMessageId", async () => {
        const log = await fresh();
        const a = await log.append("no-key", msg("same", ""));
        const b = await log.append("no-key", msg("same", ""));
        const c = await log.append("no-key", msg("same", ""));
        expect([a.duplicate, b.duplicate, c.duplicate]).toEqual([false, false, false]);
        expect([a.message.seq, b.message.seq, c.message.seq]).toEqual([1, 2, 3]);
        expect(new Set([a.message.id, b.message.id, c.message.id]).size).toBe(3);
        expect(await log.head("no-key")).toMatchObject({ lastSeq: 3, firstSeq: 1 });
      });

      it("dedupes a clientMessageId repeated within one tick", async () => {
        const log = await fresh();
        const [a, b, c, d] = await Promise.all([
          log.append("same-tick", msg("one", "k")),
          log.append("same-tick", msg("one", "k")),
          log.append("same-tick", msg("three", "")),
          log.append("same-tick", msg("one", "k")),
        ]);
        expect(a).toMatchObject({ duplicate: false, message: { seq: 1, text: "one" } });
        expect(b).toEqual({ duplicate: true, message: a?.message });
        expect(c).toMatchObject({ duplicate: false, message: { seq: 2, text: "three" } });
        expect(d).toEqual({ duplicate: true, message: a?.message });
        expect(seqs(await log.read("same-tick", ALL))).toEqual([1, 2]);
        expect(await log.head("same-tick")).toMatchObject({ lastSeq: 2, firstSeq: 1 });
      });

      it("refuses only the conflicting append of a batch written in one tick", async () => {
        const log = await fresh();
        const [a, b, c] = await Promise.allSettled([
          log.append("tick-x", msg("one", "k")),
          log.append("tick-x", msg("two", "k")),
          log.append("tick-x", msg("three", "")),
        ]);
        expect(a).toMatchObject({ status: "fulfilled", value: { message: { seq: 1 } } });
        expect(b).toMatchObject({ status: "rejected", reason: { code: Code.AlreadyExists } });
        expect(c).toMatchObject({ status: "fulfilled", value: { message: { seq: 2 } } });
        expect(seqs(await log.read("tick-x", ALL))).toEqual([1, 2]);
      });
    });

    describe("retention", () => {
      it("keeps the newest 5 of 12 and continues the seq", async () => {
        const log = await fresh(5);
        const results: AppendResult[] = [];
        for (const i of range(1, 12)) {
          results.push(await log.append("kept", msg(`k${i}`, `cid-${i}`)));
        }
        expect(results.map((r) => r.message.seq)).toEqual(range(1, 12));
        const epoch = (await log.head("kept")).epoch;
        expect(await log.head("kept")).toEqual({ epoch, lastSeq: 12, firstSeq: 8 });

        const retained = results.slice(7).map((r) => r.message);
        expect(await log.read("kept", rng(0, 0, 100, true))).toEqual(retained);
        expect(await log.read("kept", rng(0, 0, 100, false))).toEqual(retained);
        expect(seqs(await log.read("kept", rng(2, 0, 100, false)))).toEqual([8, 9, 10, 11, 12]);
        expect(seqs(await log.read("kept", rng(0, 10, 100, true)))).toEqual([8, 9]);
        expect(seqs(await log.read("kept", rng(0, 8, 100, true)))).toEqual([]);
        expect(seqs(await log.read("kept", rng(3, 9, 100, false)))).toEqual([8]);

        // A retained message still dedupes.
        const retry = await log.append("kept", msg("k10", "cid-10"));
        expect(retry).toEqual({ duplicate: true, message: results[9]?.message });

        const next = await log.append("kept", msg("k13"));
        expect(next).toMatchObject({ duplicate: false, message: { seq: 13, text: "k13" } });
        expect(await log.head("kept")).toEqual({ epoch, lastSeq: 13, firstSeq: 9 });
        expect(seqs(await log.read("kept", ALL))).toEqual([9, 10, 11, 12, 13]);
      });

      it("trims appends started in one tick the same way", async () => {
        const log = await fresh(5);
        const results = await Promise.all(
          range(1, 12).map((i) => log.append("burst", msg(`${i}`))),
        );
        expect(results.map((r) => r.message.seq)).toEqual(range(1, 12));
        expect(await log.head("burst")).toMatchObject({ lastSeq: 12, firstSeq: 8 });
        expect(await log.read("burst", ALL)).toEqual(results.slice(7).map((r) => r.message));
      });

      it("applies retention per room", async () => {
        const log = await fresh(3);
        await appendAll(log, "busy", ["1", "2", "3", "4", "5", "6", "7"]);
        await appendAll(log, "quiet", ["1", "2"]);
        expect(await log.head("busy")).toMatchObject({ lastSeq: 7, firstSeq: 5 });
        expect(await log.head("quiet")).toMatchObject({ lastSeq: 2, firstSeq: 1 });
        expect(seqs(await log.read("busy", ALL))).toEqual([5, 6, 7]);
        expect(seqs(await log.read("quiet", ALL))).toEqual([1, 2]);
      });

      it("keeps exactly the newest message with retention 1", async () => {
        const log = await fresh(1);
        await appendAll(log, "one", ["a", "b", "c"]);
        expect(await log.head("one")).toMatchObject({ lastSeq: 3, firstSeq: 3 });
        expect((await log.read("one", ALL)).map((m) => [m.seq, m.text])).toEqual([[3, "c"]]);
        expect((await log.append("one", msg("d"))).message.seq).toBe(4);
        expect((await log.read("one", ALL)).map((m) => [m.seq, m.text])).toEqual([[4, "d"]]);
      });
    });

    describe("listRooms", () => {
      it("lists rooms with messages by name, with the newest seq and its time, paged by afterRoom", async () => {
        const log = await fresh(2);
        await appendAll(log, "beta", ["b1"]);
        const alpha = await appendAll(log, "alpha", ["a1", "a2", "a3"]);
        await log.head("empty");
        const gamma = await appendAll(log, "gamma-1", ["g1", "g2"]);
        const beta = await log.read("beta", ALL);
        const all = await log.listRooms("", 10);
        expect(all).toEqual([
          { room: "alpha", lastSeq: 3, lastSentAtMs: alpha[2]?.message.sentAtMs },
          { room: "beta", lastSeq: 1, lastSentAtMs: beta[0]?.sentAtMs },
          { room: "gamma-1", lastSeq: 2, lastSentAtMs: gamma[1]?.message.sentAtMs },
        ]);
        expect((await log.listRooms("", 2)).map((r) => r.room)).toEqual(["alpha", "beta"]);
        expect((await log.listRooms("alpha", 2)).map((r) => r.room)).toEqual(["beta", "gamma-1"]);
        expect((await log.listRooms("beta", 10)).map((r) => r.room)).toEqual(["gamma-1"]);
        expect(await log.listRooms("gamma-1", 10)).toEqual([]);
        expect(await log.listRooms("", 0)).toEqual([]);
      });
    });

    describe("stored fields", () => {
      it("round-trips author, text, clientMessageId and the accept time exactly", async () => {
        const log = await fresh();
        const author = "Zoë 🦊 Ångström";
        const text =
          "héllo wörld 👋🏽 — 日本語テキスト, עברית, 👨‍👩‍👧 family, 𝄞 clef, Z̤͔ͧ̑̓ combining, tab\there";
        const clientMessageId = "client-1234_ABC.xyz~";

        const before = Date.now();
        const r = await log.append("fields", { author, text, clientMessageId });
        const after = Date.now();

        expect(r.duplicate).toBe(false);
        expect(r.message.room).toBe("fields");
        expect(r.message.seq).toBe(1);
        expect(r.message.author).toBe(author);
        expect(r.message.text).toBe(text);
        expect(r.message.clientMessageId).toBe(clientMessageId);
        expect(typeof r.message.id).toBe("string");
        expect(r.message.id.length).toBeGreaterThan(0);
        expect(Number.isInteger(r.message.sentAtMs)).toBe(true);
        expect(r.message.sentAtMs).toBeGreaterThanOrEqual(before);
        expect(r.message.sentAtMs).toBeLessThanOrEqual(after);

        const plain = await log.append("fields", msg("plain ascii", "", "bob"));
        expect(plain.message.clientMessageId).toBe("");
        expect(plain.message.id).not.toBe(r.message.id);

        const stored = await log.read("fields", ALL);
        expect(stored).toEqual([r.message, plain.message]);
        expect(stored[0]?.text).toBe(text);
        expect(stored[0]?.author).toBe(author);
        expect(stored[1]?.clientMessageId).toBe("");
      });

      it("round-trips a 500-code-point text of astral characters", async () => {
        const log = await fresh();
        const text = "😀𝒜中é".repeat(125);
        expect([...text].length).toBe(500);
        const r = await log.append("long", msg(text));
        const [stored] = await log.read("long", ALL);
        expect(stored?.text).toBe(text);
        expect(stored).toEqual(r.message);
      });
    });
  });
}
