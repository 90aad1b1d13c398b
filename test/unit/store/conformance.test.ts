import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryLog } from "../../../src/store/memory-log.js";
import type { AppendResult, ReadRange } from "../../../src/store/message-log.js";
import { SqliteLog } from "../../../src/store/sqlite-log.js";
import { range } from "../../helpers/streams.js";
import { describeGuestNames } from "./guest-names-suite.js";
import { describeMessageLog } from "./message-log-suite.js";
import { describePeople } from "./people-suite.js";

/** Temp folders made by this file; each test's cleanup removes them. */
const tempDirs: string[] = [];

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-store-"));
  tempDirs.push(dir);
  return join(dir, "parley.db");
}

function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// One line per engine.
describeMessageLog("MemoryLog", (retention) => new MemoryLog({ retention }));
describeMessageLog(
  "SqliteLog",
  (retention) => new SqliteLog({ path: tempDbPath(), retention }),
  removeTempDirs,
);
describeGuestNames("MemoryLog", () => new MemoryLog({ retention: 10 }));
describeGuestNames("SqliteLog", () => new SqliteLog({ path: tempDbPath(), retention: 10 }));
describePeople("MemoryLog", () => new MemoryLog({ retention: 10 }));
{
  /** The file each SqliteLog the people suite opened is on. */
  const files = new WeakMap<object, string>();
  const openFile = (path: string) => {
    const log = new SqliteLog({ path, retention: 10 });
    files.set(log, path);
    return log;
  };
  describePeople("SqliteLog", () => openFile(tempDbPath()), {
    // Close it and open its file again: what a restart finds.
    again: async (log) => {
      const path = files.get(log);
      if (path === undefined) throw new Error("not a store this suite opened");
      await log.close();
      return openFile(path);
    },
  });
}

const ALL: ReadRange = { afterSeq: 0, beforeSeq: 0, limit: 100_000, newest: false };

describe("SqliteLog durability", () => {
  const open: SqliteLog[] = [];

  function openAt(path: string, retention = 10_000): SqliteLog {
    const log = new SqliteLog({ path, retention });
    open.push(log);
    return log;
  }

  afterEach(async () => {
    for (const log of open.splice(0)) await log.close();
    removeTempDirs();
  });

  it("keeps epochs, seqs and messages across close and reopen, and continues the seq", async () => {
    const path = tempDbPath();
    const first = openAt(path);
    const a: AppendResult[] = [];
    for (const i of range(1, 7))
      a.push(
        await first.append("alpha", {
          author: "ann",
          text: `α ${i} 🎈`,
          clientMessageId: i % 2 === 0 ? `a-${i}` : "",
        }),
      );
    const b = await Promise.all(
      range(1, 3).map((i) =>
        first.append("beta", { author: "ben", text: `β${i}`, clientMessageId: "" }),
      ),
    );
    const emptyHead = await first.head("gamma");
    const headA = await first.head("alpha");
    const headB = await first.head("beta");
    expect(headA).toMatchObject({ lastSeq: 7, firstSeq: 1 });
    expect(headB).toMatchObject({ lastSeq: 3, firstSeq: 1 });
    await first.close();

    const second = openAt(path);
    expect(await second.head("alpha")).toEqual(headA);
    expect(await second.head("beta")).toEqual(headB);
    expect(await second.head("gamma")).toEqual(emptyHead);
    expect(await second.read("alpha", ALL)).toEqual(a.map((r) => r.message));
    expect(await second.read("beta", ALL)).toEqual(b.map((r) => r.message));

    const retry = await second.append("alpha", {
      author: "ann",
      text: "α 4 🎈",
      clientMessageId: "a-4",
    });
    expect(retry).toEqual({ duplicate: true, message: a[3]?.message });

    const next = await second.append("alpha", {
      author: "ann",
      text: "after reopen",
      clientMessageId: "",
    });
    expect(next).toMatchObject({ duplicate: false, message: { seq: 8, text: "after reopen" } });
    expect(
      (await second.append("beta", { author: "ben", text: "b4", clientMessageId: "" })).message.seq,
    ).toBe(4);
    expect(
      (await second.append("gamma", { author: "gus", text: "g1", clientMessageId: "" })).message
        .seq,
    ).toBe(1);
    expect(await second.head("alpha")).toEqual({ ...headA, lastSeq: 8 });
    // Only read before, gamma had no log: its first append keeps the epoch the read named.
    expect(await second.head("gamma")).toEqual({ ...emptyHead, lastSeq: 1, firstSeq: 1 });
  });

  it("keeps guest names and their keys across close and reopen", async () => {
    const path = tempDbPath();
    const now = Date.now();
    const claim = { renewing: false, inUse: false, nowMs: now, tokenUntilMs: now + 1000 };
    const ask = { ...claim, name: "ann", holdMs: 60_000, freshKeyHash: "k-other" };
    const first = openAt(path);
    expect(await first.guestNames.claim({ ...ask, shownKeyHash: "", freshKeyHash: "k-ann" })).toBe(
      "claimed",
    );
    await first.close();
    const second = openAt(path);
    expect(await second.guestNames.claim({ ...ask, shownKeyHash: "" })).toBe("held");
    expect(await second.guestNames.claim({ ...ask, shownKeyHash: "k-ann" })).toBe("reclaimed");
  });

  it("adds the people tables to a file made before them, keeping its messages and numbering", async () => {
    const path = tempDbPath();
    const first = openAt(path);
    const sent = [];
    for (const i of range(1, 3))
      sent.push(await first.append("alpha", { author: "ann", text: `${i}`, clientMessageId: "" }));
    const head = await first.head("alpha");
    await first.close();
    // What a file written before people existed holds: no people tables.
    const old = new Database(path);
    old.exec("DROP TABLE memberships; DROP TABLE conversations");
    old.close();

    const second = openAt(path);
    expect(await second.read("alpha", ALL)).toEqual(sent.map((r) => r.message));
    expect(await second.people.memberships("ann")).toEqual([]);
    expect(await second.people.join("ann", "alpha", head.lastSeq, 10)).toMatchObject({
      created: true,
      membership: { room: "alpha", joinedSeq: 3, readSeq: 3 },
    });
    const next = await second.append("alpha", { author: "ann", text: "4", clientMessageId: "" });
    expect(next.message.seq).toBe(4);
    expect(await second.head("alpha")).toEqual({ ...head, lastSeq: 4 });
  });

  it("keeps the retained window across reopen", async () => {
    const path = tempDbPath();
    const first = openAt(path, 5);
    for (const i of range(1, 12))
      await first.append("r", { author: "a", text: `${i}`, clientMessageId: "" });
    const head = await first.head("r");
    expect(head).toMatchObject({ lastSeq: 12, firstSeq: 8 });
    await first.close();

    const second = openAt(path, 5);
    expect(await second.head("r")).toEqual(head);
    expect((await second.read("r", ALL)).map((m) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(
      (await second.append("r", { author: "a", text: "13", clientMessageId: "" })).message.seq,
    ).toBe(13);
    expect(await second.head("r")).toEqual({ ...head, lastSeq: 13, firstSeq: 9 });
  });

  it("never moves the oldest retained seq back when retention is raised across reopen", async () => {
    const path = tempDbPath();
    const first = openAt(path, 5);
    for (const i of range(1, 12))
      await first.append("r", { author: "a", text: `${i}`, clientMessageId: "" });
    await first.close();

    const second = openAt(path, 100);
    await second.append("r", { author: "a", text: "13", clientMessageId: "" });
    expect(await second.head("r")).toMatchObject({ lastSeq: 13, firstSeq: 8 });
    expect((await second.read("r", ALL)).map((m) => m.seq)).toEqual(range(8, 13));
  });

  it("writes appends still pending when close() is called", async () => {
    const path = tempDbPath();
    const first = openAt(path);
    const pending = range(1, 20).map((i) =>
      first.append("late", { author: "a", text: `late ${i}`, clientMessageId: "" }),
    );
    await first.close();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.message.seq)).toEqual(range(1, 20));
    await expect(
      first.append("late", { author: "a", text: "x", clientMessageId: "" }),
    ).rejects.toThrow();

    const second = openAt(path);
    expect(await second.read("late", ALL)).toEqual(results.map((r) => r.message));
  });

  it("group-commits 1000 appends started in one tick, in order", async () => {
    const path = tempDbPath();
    const log = openAt(path);
    const resolvedOrder: number[] = [];
    const results = await Promise.all(
      range(0, 999).map((i) =>
        log
          .append("group", {
            author: "g",
            text: `g${i}`,
            clientMessageId: i % 10 === 0 ? `c${i}` : "",
          })
          .then((r) => {
            resolvedOrder.push(i);
            return r;
          }),
      ),
    );
    expect(resolvedOrder).toEqual(range(0, 999));
    expect(results.map((r) => r.message.seq)).toEqual(range(1, 1000));
    expect(results.map((r) => r.message.text)).toEqual(range(0, 999).map((i) => `g${i}`));
    expect(results.every((r) => !r.duplicate)).toBe(true);

    // Read back in pages of 300, walking afterSeq.
    const readBack = [];
    let after = 0;
    for (;;) {
      const page = await log.read("group", {
        afterSeq: after,
        beforeSeq: 0,
        limit: 300,
        newest: false,
      });
      if (page.length === 0) break;
      readBack.push(...page);
      after = page[page.length - 1]?.seq ?? after;
    }
    expect(readBack).toEqual(results.map((r) => r.message));
    expect(await log.head("group")).toMatchObject({ lastSeq: 1000, firstSeq: 1 });

    // And from a second connection to the same file, so it was committed.
    await log.close();
    const reopened = openAt(path);
    expect(await reopened.read("group", ALL)).toEqual(results.map((r) => r.message));
  });
});
