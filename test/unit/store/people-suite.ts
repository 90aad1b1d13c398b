import { afterEach, describe, expect, it } from "vitest";
import type { MessageLog } from "../../../src/store/message-log.js";
import {
  type Conversation,
  type Membership,
  MembershipLimitError,
  type PeopleChange,
  type PeopleStore,
} from "../../../src/store/people.js";

/** Opens a fresh, empty store. */
export type OpenStore = () => MessageLog | Promise<MessageLog>;

/** What an engine that keeps or shares its data adds to the suite. */
export interface PeopleSuiteOptions {
  /**
   * Another store on the same data as `log`: SQLite closes it and opens its
   * file again; Redis opens a second RedisLog on the same server, as another
   * node would. The suite closes what this returns.
   */
  again?: (log: MessageLog) => MessageLog | Promise<MessageLog>;
  /** The store from `again` shares changes live with the first one (Redis). */
  shared?: boolean;
}

const BIG = 1_000;

/** A conversation as the chat core would hand it over. */
function convo(id: string, participants: string[], createdAtMs = 1_700_000_000_000): Conversation {
  return { id, participants, createdAtMs };
}

/** A membership begun at `joinedSeq`, at some time in [from, to]. */
function fresh(room: string, joinedSeq: number, from: number, to = Date.now()): Membership {
  return {
    room,
    joinedSeq,
    readSeq: joinedSeq,
    joinedAtMs: expect.toSatisfy((t: number) => t >= from && t <= to) as unknown as number,
  };
}

/** The error a call fails with; fails the test if it succeeds. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Changes one watch received, with a way to wait for the next ones. */
interface Recorder {
  readonly changes: PeopleChange[];
  /** Resolves once at least `count` changes arrived (the test's timeout bounds the wait). */
  reach(count: number): Promise<void>;
  stop(): void;
}

async function record(people: PeopleStore): Promise<Recorder> {
  const changes: PeopleChange[] = [];
  let wake: (() => void) | undefined;
  const stop = people.watch((change) => {
    changes.push(change);
    wake?.();
  });
  await people.watching?.();
  return {
    changes,
    stop,
    async reach(count) {
      while (changes.length < count) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

/**
 * The PeopleStore conformance suite (src/store/people.ts), run against one
 * engine's `people`: every answer exact, every refusal changing nothing,
 * every change watched once and in order.
 */
export function describePeople(
  name: string,
  open: OpenStore,
  options: PeopleSuiteOptions = {},
): void {
  describe(`PeopleStore conformance: ${name}`, () => {
    const opened: MessageLog[] = [];
    afterEach(async () => {
      for (const log of opened.splice(0)) await log.close();
    });

    async function openLog(): Promise<MessageLog> {
      const log = await open();
      opened.push(log);
      return log;
    }

    async function store(): Promise<PeopleStore> {
      return (await openLog()).people;
    }

    it("joins once: created, then unchanged whatever the second call's seq", async () => {
      const people = await store();
      const t0 = Date.now();
      const first = await people.join("ann", "design", 5, BIG);
      expect(first).toEqual({ created: true, membership: fresh("design", 5, t0) });
      const again = await people.join("ann", "design", 9, BIG);
      expect(again).toEqual({ created: false, membership: first.membership });
      expect(await people.membership("ann", "design")).toEqual(first.membership);
      expect(await people.memberships("ann")).toEqual([first.membership]);
      expect(await people.membership("bo", "design")).toBeUndefined();
      expect(await people.memberships("bo")).toEqual([]);
    });

    it("refuses a join past the limit with MembershipLimitError, changing nothing", async () => {
      const people = await store();
      const a = (await people.join("ann", "a", 1, 2)).membership;
      const b = (await people.join("ann", "b", 2, 2)).membership;
      const error = await failure(people.join("ann", "c", 3, 2));
      expect(error).toBeInstanceOf(MembershipLimitError);
      expect(error).toMatchObject({ user: "ann", maxRooms: 2 });
      expect(await people.memberships("ann")).toEqual([a, b]);
      expect(await people.membership("ann", "c")).toBeUndefined();
      // At the limit, joining a room already joined is no change, so no refusal.
      expect(await people.join("ann", "a", 7, 2)).toEqual({ created: false, membership: a });
      // The limit is per user.
      expect((await people.join("bo", "c", 3, 2)).created).toBe(true);
      // Room made: the join goes through.
      expect(await people.leave("ann", "b")).toBe(true);
      expect((await people.join("ann", "c", 3, 2)).created).toBe(true);
      expect((await people.memberships("ann")).map((m) => m.room)).toEqual(["a", "c"]);
    });

    it("gives a room to exactly one of many simultaneous joins, and never passes the limit", async () => {
      const people = await store();
      const same = await Promise.all(
        Array.from({ length: 20 }, (_, i) => people.join("ann", "race", i, BIG)),
      );
      expect(same.filter((o) => o.created)).toHaveLength(1);
      const winner = same.find((o) => o.created)?.membership;
      for (const o of same) expect(o.membership).toEqual(winner);

      const rooms = Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(2, "0")}`);
      const settled = await Promise.allSettled(rooms.map((room) => people.join("bo", room, 0, 5)));
      expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(5);
      for (const s of settled) {
        if (s.status === "rejected") expect(s.reason).toBeInstanceOf(MembershipLimitError);
      }
      expect(await people.memberships("bo")).toHaveLength(5);
    });

    it("leaves once: true, then false, and the membership is gone from every answer", async () => {
      const people = await store();
      const a = (await people.join("ann", "a", 1, BIG)).membership;
      await people.join("ann", "b", 2, BIG);
      const c = (await people.join("ann", "c", 3, BIG)).membership;
      expect(await people.leave("ann", "b")).toBe(true);
      expect(await people.leave("ann", "b")).toBe(false);
      expect(await people.leave("ann", "never")).toBe(false);
      expect(await people.leave("bo", "a")).toBe(false);
      expect(await people.membership("ann", "b")).toBeUndefined();
      expect(await people.memberships("ann")).toEqual([a, c]);
      // Joining again begins a new membership, at the new seq.
      const t0 = Date.now();
      expect(await people.join("ann", "b", 40, BIG)).toEqual({
        created: true,
        membership: fresh("b", 40, t0),
      });
      expect(await people.markRead("ann", "b", 41)).toEqual({ readSeq: 41, changed: true });
      expect(await people.leave("ann", "a")).toBe(true);
      expect(await people.leave("ann", "b")).toBe(true);
      expect(await people.leave("ann", "c")).toBe(true);
      expect(await people.memberships("ann")).toEqual([]);
    });

    it("lists memberships ascending by room, and keeps users with any characters apart", async () => {
      const people = await store();
      for (const room of ["zeta", "dm.abc", "alpha_1", "beta-2", "alpha", "0day"]) {
        await people.join("ann", room, room.length, BIG);
      }
      expect((await people.memberships("ann")).map((m) => m.room)).toEqual([
        "0day",
        "alpha",
        "alpha_1",
        "beta-2",
        "dm.abc",
        "zeta",
      ]);
      const odd = ["{ann}", "ann}", "{ann", "ann 🎈", "Ann", "анна", ""];
      for (const [i, user] of odd.entries()) await people.join(user, `room-${i}`, i, BIG);
      for (const [i, user] of odd.entries()) {
        expect((await people.memberships(user)).map((m) => [m.room, m.joinedSeq])).toEqual([
          [`room-${i}`, i],
        ]);
      }
      expect(await people.memberships("ann")).toHaveLength(6);
    });

    it("moves a read position forward only, and answers undefined for a non-member", async () => {
      const people = await store();
      expect(await people.markRead("ann", "design", 4)).toBeUndefined();
      expect(await people.membership("ann", "design")).toBeUndefined();
      const joined = (await people.join("ann", "design", 3, BIG)).membership;
      expect(await people.markRead("ann", "design", 5)).toEqual({ readSeq: 5, changed: true });
      expect(await people.markRead("ann", "design", 5)).toEqual({ readSeq: 5, changed: false });
      expect(await people.markRead("ann", "design", 4)).toEqual({ readSeq: 5, changed: false });
      expect(await people.markRead("ann", "design", 1)).toEqual({ readSeq: 5, changed: false });
      expect(await people.membership("ann", "design")).toEqual({ ...joined, readSeq: 5 });
      // Seqs far past 2^32 survive exactly.
      const far = 2 ** 52 + 1;
      expect(await people.markRead("ann", "design", far)).toEqual({ readSeq: far, changed: true });
      expect(await people.memberships("ann")).toEqual([{ ...joined, readSeq: far }]);
      // Another user's position is their own.
      await people.join("bo", "design", 0, BIG);
      expect(await people.markRead("bo", "design", 2)).toEqual({ readSeq: 2, changed: true });
      expect((await people.membership("ann", "design"))?.readSeq).toBe(far);
    });

    it("opens a new conversation: stored, every participant a member from seq 0", async () => {
      const people = await store();
      const c = convo("dm.new", ["ann", "bo", "cy"]);
      expect(await people.conversation(c.id)).toBeUndefined();
      const t0 = Date.now();
      const opened = await people.openConversation(c, "bo", 7, BIG);
      expect(opened).toEqual({
        conversation: c,
        created: true,
        joined: ["ann", "bo", "cy"].map((user) => ({ user, membership: fresh(c.id, 0, t0) })),
      });
      expect(await people.conversation(c.id)).toEqual(c);
      for (const user of ["ann", "bo", "cy"]) {
        expect(await people.memberships(user)).toEqual([fresh(c.id, 0, t0)]);
      }
      expect(await people.conversation("dm.other")).toBeUndefined();
    });

    it("opens an existing conversation as it is, making only the opener a member again", async () => {
      const people = await store();
      const c = convo("dm.again", ["ann", "bo", "cy"]);
      await people.openConversation(c, "ann", 0, BIG);
      const annBefore = await people.membership("ann", c.id);
      // The second call's record is ignored: the stored one answers.
      const other = convo(c.id, ["ann", "bo", "cy", "dee"], 1);
      expect(await people.openConversation(other, "bo", 3, BIG)).toEqual({
        conversation: c,
        created: false,
        joined: [],
      });
      expect(await people.leave("bo", c.id)).toBe(true);
      expect(await people.leave("cy", c.id)).toBe(true);
      // Ann is still a member: nothing changes for anyone.
      expect(await people.openConversation(c, "ann", 4, BIG)).toEqual({
        conversation: c,
        created: false,
        joined: [],
      });
      expect(await people.membership("ann", c.id)).toEqual(annBefore);
      // Bo left: Bo alone comes back, from the room's last seq; Cy stays out.
      const t0 = Date.now();
      expect(await people.openConversation(c, "bo", 6, BIG)).toEqual({
        conversation: c,
        created: false,
        joined: [{ user: "bo", membership: fresh(c.id, 6, t0) }],
      });
      expect(await people.membership("bo", c.id)).toEqual(fresh(c.id, 6, t0));
      expect(await people.membership("cy", c.id)).toBeUndefined();
      expect(await people.membership("dee", c.id)).toBeUndefined();
      expect(await people.conversation(c.id)).toEqual(c);
    });

    it("refuses an opener at the limit, or a new conversation's participant at it, changing nothing", async () => {
      const people = await store();
      const r1 = (await people.join("ann", "r1", 0, BIG)).membership;
      const r2 = (await people.join("ann", "r2", 0, BIG)).membership;
      const c = convo("dm.full", ["ann", "bo"]);
      const error = await failure(people.openConversation(c, "ann", 0, 2));
      expect(error).toBeInstanceOf(MembershipLimitError);
      expect(error).toMatchObject({ user: "ann", maxRooms: 2 });
      expect(await people.conversation(c.id)).toBeUndefined();
      expect(await people.memberships("ann")).toEqual([r1, r2]);
      expect(await people.memberships("bo")).toEqual([]);

      // Nor may Bo add her: she would pass the limit all the same. Nothing changes.
      const added = await failure(people.openConversation(c, "bo", 0, 2));
      expect(added).toBeInstanceOf(MembershipLimitError);
      expect(added).toMatchObject({ user: "ann", maxRooms: 2 });
      expect(await people.conversation(c.id)).toBeUndefined();
      expect(await people.memberships("ann")).toEqual([r1, r2]);
      expect(await people.memberships("bo")).toEqual([]);

      // With a place free, Bo opens it and she is in.
      expect(await people.leave("ann", "r2")).toBe(true);
      const opened = await people.openConversation(c, "bo", 0, 2);
      expect(opened.joined.map((j) => j.user)).toEqual(["ann", "bo"]);
      expect(await people.memberships("ann")).toHaveLength(2);
      // A member at the limit may open it again: nothing to begin.
      expect(await people.openConversation(c, "ann", 5, 2)).toEqual({
        conversation: c,
        created: false,
        joined: [],
      });
      // Once Ann left it and took another room, opening it again would pass the limit.
      expect(await people.leave("ann", c.id)).toBe(true);
      const r3 = (await people.join("ann", "r3", 0, BIG)).membership;
      expect(await failure(people.openConversation(c, "ann", 5, 2))).toBeInstanceOf(
        MembershipLimitError,
      );
      expect(await people.memberships("ann")).toEqual([r1, r3]);
      expect(await people.conversation(c.id)).toEqual(c);
    });

    it("opens a conversation once when two participants open it at the same time", async () => {
      const people = await store();
      const c = convo("dm.race", ["ann", "bo", "cy"]);
      const both = await Promise.all([
        people.openConversation(c, "ann", 0, BIG),
        people.openConversation(c, "bo", 0, BIG),
      ]);
      expect(both.filter((o) => o.created)).toHaveLength(1);
      for (const o of both) expect(o.conversation).toEqual(c);
      // Each participant's membership was begun by exactly one of the calls.
      expect(both.flatMap((o) => o.joined.map((j) => j.user)).sort()).toEqual(["ann", "bo", "cy"]);
      for (const user of ["ann", "bo", "cy"]) {
        expect((await people.memberships(user)).map((m) => [m.room, m.joinedSeq])).toEqual([
          [c.id, 0],
        ]);
      }
    });

    // In order per user: that is what a user's feed needs, and all a Redis
    // Cluster gives, where each user's changes are published by the master
    // holding that user (changes of users on different masters may cross).
    it("tells watchers each change once, in order per user, and nothing for calls that change nothing", async () => {
      const people = await store();
      const watch = await record(people);
      const t0 = Date.now();
      await people.join("ann", "design", 2, BIG);
      await people.join("ann", "design", 3, BIG);
      expect(await people.markRead("ann", "design", 4)).toMatchObject({ changed: true });
      await people.markRead("ann", "design", 4);
      await people.markRead("ann", "design", 1);
      await people.markRead("bo", "design", 9);
      await failure(people.join("ann", "full", 0, 1));
      expect(await people.leave("ann", "design")).toBe(true);
      await people.leave("ann", "design");
      await people.leave("bo", "design");
      const c = convo("dm.watch", ["ann", "bo"]);
      await people.openConversation(c, "ann", 0, BIG);
      await people.openConversation(c, "bo", 0, BIG);
      await failure(people.openConversation(convo("dm.refused", ["ann", "cy"]), "ann", 0, 1));
      // Last for each user, so that every change of that user before it has arrived when it has.
      for (const user of ["ann", "bo", "cy"]) await people.join(user, "last", 1, BIG);
      await watch.reach(8);
      const byUser = (user: string) => watch.changes.filter((change) => change.user === user);
      expect(byUser("ann")).toEqual([
        { kind: "joined", user: "ann", membership: fresh("design", 2, t0) },
        { kind: "read", user: "ann", room: "design", readSeq: 4 },
        { kind: "left", user: "ann", room: "design" },
        { kind: "joined", user: "ann", membership: fresh(c.id, 0, t0) },
        { kind: "joined", user: "ann", membership: fresh("last", 1, t0) },
      ]);
      expect(byUser("bo")).toEqual([
        { kind: "joined", user: "bo", membership: fresh(c.id, 0, t0) },
        { kind: "joined", user: "bo", membership: fresh("last", 1, t0) },
      ]);
      expect(byUser("cy")).toEqual([
        { kind: "joined", user: "cy", membership: fresh("last", 1, t0) },
      ]);
      expect(watch.changes).toHaveLength(8);
    });

    it("tells every watcher, until it unsubscribes", async () => {
      const people = await store();
      const first = await record(people);
      const second = await record(people);
      await people.join("ann", "a", 0, BIG);
      await first.reach(1);
      await second.reach(1);
      first.stop();
      await people.markRead("ann", "a", 1);
      await people.leave("ann", "a");
      await second.reach(3);
      expect(second.changes.map((c) => c.kind)).toEqual(["joined", "read", "left"]);
      expect(first.changes.map((c) => c.kind)).toEqual(["joined"]);
      second.stop();
    });

    if (options.again !== undefined) {
      const again = options.again;
      it(`keeps memberships, read positions and conversations in another store on the same data`, async () => {
        const first = await openLog();
        const p = first.people;
        const a = (await p.join("ann", "design", 3, BIG)).membership;
        await p.markRead("ann", "design", 8);
        const c = convo("dm.kept", ["ann", "bo", "cy"]);
        await p.openConversation(c, "ann", 0, BIG);
        await p.leave("cy", c.id);
        await p.join("анна 🎈", "design", 1, BIG);
        const ann = await p.memberships("ann");
        const bo = await p.memberships("bo");
        const odd = await p.memberships("анна 🎈");
        expect(ann).toEqual([{ ...a, readSeq: 8 }, fresh(c.id, 0, a.joinedAtMs)]);

        const second = await again(first);
        opened.push(second);
        const q = second.people;
        expect(await q.memberships("ann")).toEqual(ann);
        expect(await q.memberships("bo")).toEqual(bo);
        expect(await q.memberships("cy")).toEqual([]);
        expect(await q.memberships("анна 🎈")).toEqual(odd);
        expect(await q.conversation(c.id)).toEqual(c);
        // And it goes on from there: the same rules on the kept data.
        expect(await q.markRead("ann", "design", 7)).toEqual({ readSeq: 8, changed: false });
        expect(await q.join("ann", "design", 0, BIG)).toEqual({
          created: false,
          membership: { ...a, readSeq: 8 },
        });
        expect(await q.openConversation(c, "cy", 4, BIG)).toMatchObject({
          created: false,
          joined: [{ user: "cy", membership: { room: c.id, joinedSeq: 4, readSeq: 4 } }],
        });
      });
    }

    if (options.again !== undefined && options.shared === true) {
      const again = options.again;
      it("tells the watchers of every store sharing the data each change once, whichever store made it", async () => {
        const one = await openLog();
        const two = await again(one);
        opened.push(two);
        const onOne = await record(one.people);
        const onTwo = await record(two.people);
        const t0 = Date.now();
        await one.people.join("ann", "design", 1, BIG);
        await two.people.markRead("ann", "design", 3);
        await two.people.join("ann", "design", 5, BIG);
        await one.people.markRead("ann", "design", 2);
        await one.people.leave("ann", "design");
        await two.people.leave("ann", "design");
        const c = convo("dm.nodes", ["ann", "bo"]);
        await two.people.openConversation(c, "bo", 0, BIG);
        await one.people.openConversation(c, "ann", 0, BIG);
        // Last for each user, from either store, so that every change of that user before it has arrived when it has.
        for (const user of ["ann", "bo", "cy"]) await one.people.join(user, "last", 0, BIG);
        const expected: PeopleChange[] = [
          { kind: "joined", user: "ann", membership: fresh("design", 1, t0) },
          { kind: "read", user: "ann", room: "design", readSeq: 3 },
          { kind: "left", user: "ann", room: "design" },
          { kind: "joined", user: "ann", membership: fresh(c.id, 0, t0) },
          { kind: "joined", user: "ann", membership: fresh("last", 0, t0) },
          { kind: "joined", user: "bo", membership: fresh(c.id, 0, t0) },
          { kind: "joined", user: "bo", membership: fresh("last", 0, t0) },
          { kind: "joined", user: "cy", membership: fresh("last", 0, t0) },
        ];
        await onOne.reach(expected.length);
        await onTwo.reach(expected.length);
        // In order per user (a Redis Cluster orders nothing across users held by different masters).
        const of = (changes: PeopleChange[], user: string) =>
          changes.filter((ch) => ch.user === user);
        for (const watch of [onOne, onTwo]) {
          for (const user of ["ann", "bo", "cy"]) {
            expect(of(watch.changes, user)).toEqual(of(expected, user));
          }
          expect(watch.changes).toHaveLength(expected.length);
        }
      });
    }
  });
}
