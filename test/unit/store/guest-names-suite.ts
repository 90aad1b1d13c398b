import { afterEach, describe, expect, it } from "vitest";
import type { GuestNameClaim, GuestNames } from "../../../src/store/guest-names.js";
import type { MessageLog } from "../../../src/store/message-log.js";

/** Opens a fresh, empty store. */
export type OpenStore = () => MessageLog | Promise<MessageLog>;

const HOLD = 60_000;
const TTL = 10_000;

/**
 * The GuestNames conformance suite (src/store/guest-names.ts), run against
 * one engine's `guestNames`. Times are real ones moved forward by the test,
 * so an engine that expires records by the wall clock (Redis) agrees.
 */
export function describeGuestNames(name: string, open: OpenStore): void {
  describe(`GuestNames conformance: ${name}`, () => {
    const opened: MessageLog[] = [];
    afterEach(async () => {
      for (const log of opened.splice(0)) await log.close();
    });

    async function fresh(): Promise<GuestNames> {
      const log = await open();
      opened.push(log);
      return log.guestNames;
    }

    // The claims' clock is the test's, but Redis expires records by its own
    // real clock: a day ahead keeps every record alive however long a loaded
    // machine takes to reach a test (one that reached "at 4,999 ms" after 5 s
    // of real time found its record already gone).
    const t0 = Date.now() + 86_400_000;
    /** A claim at `at` ms after the suite's clock start, with the other fields defaulted. */
    function claim(who: string, at: number, fields: Partial<GuestNameClaim> = {}): GuestNameClaim {
      return {
        name: who,
        shownKeyHash: "",
        renewing: false,
        inUse: false,
        freshKeyHash: `fresh-${at}`,
        nowMs: t0 + at,
        tokenUntilMs: t0 + at + TTL,
        holdMs: HOLD,
        ...fields,
      };
    }

    it("gives a free name to the first caller; others, with no key or a wrong one, are refused", async () => {
      const names = await fresh();
      expect(await names.claim(claim("ann", 0, { freshKeyHash: "k-ann" }))).toBe("claimed");
      expect(await names.claim(claim("ann", 1))).toBe("held");
      expect(await names.claim(claim("ann", 2, { shownKeyHash: "k-wrong" }))).toBe("held");
      expect(await names.claim(claim("bo", 3, { freshKeyHash: "k-bo" }))).toBe("claimed");
      // A key for one name gives no other.
      expect(await names.claim(claim("bo", 4, { shownKeyHash: "k-ann" }))).toBe("held");
      expect(await names.claim(claim("ann", 5, { shownKeyHash: "k-bo" }))).toBe("held");
    });

    it("gives the name back for its key, and to a live token of it, even while a member uses it", async () => {
      const names = await fresh();
      await names.claim(claim("ann", 0, { freshKeyHash: "k-ann" }));
      const inUse = { inUse: true };
      expect(await names.claim(claim("ann", 1, { shownKeyHash: "k-ann", ...inUse }))).toBe(
        "reclaimed",
      );
      expect(await names.claim(claim("ann", 2, { renewing: true, ...inUse }))).toBe("renewed");
      // The key is unchanged by either: it still works, a fresh one offered does not.
      expect(await names.claim(claim("ann", 3, { shownKeyHash: "k-ann" }))).toBe("reclaimed");
      expect(await names.claim(claim("ann", 4, { shownKeyHash: "fresh-2" }))).toBe("held");
    });

    it("refuses a free name a live member uses, unless the caller renews its own token", async () => {
      const names = await fresh();
      expect(await names.claim(claim("cy", 0, { inUse: true }))).toBe("held");
      expect(await names.claim(claim("cy", 1, { inUse: true, shownKeyHash: "k-any" }))).toBe(
        "held",
      );
      expect(await names.claim(claim("cy", 2, { inUse: true, renewing: true }))).toBe("claimed");
    });

    it("holds a name for its hold after the last use, and while its newest token lives", async () => {
      const names = await fresh();
      await names.claim(claim("dee", 0, { freshKeyHash: "k-dee" }));
      // Used again at 1000: held until 1000 + HOLD.
      expect(await names.claim(claim("dee", 1000, { shownKeyHash: "k-dee" }))).toBe("reclaimed");
      expect(await names.claim(claim("dee", 1000 + HOLD - 1))).toBe("held");
      // Past the hold (and every token): free, to anyone, with a new key.
      expect(await names.claim(claim("dee", 1000 + HOLD, { freshKeyHash: "k-new" }))).toBe(
        "claimed",
      );
      // The old key no longer reclaims it; the new one does.
      expect(await names.claim(claim("dee", 1001 + HOLD, { shownKeyHash: "k-dee" }))).toBe("held");
      expect(await names.claim(claim("dee", 1002 + HOLD, { shownKeyHash: "k-new" }))).toBe(
        "reclaimed",
      );
    });

    it("keeps a name held by a token that outlives the hold", async () => {
      const names = await fresh();
      const hold = 100;
      const long = { holdMs: hold, tokenUntilMs: t0 + 5_000 };
      await names.claim(claim("eve", 0, { freshKeyHash: "k-eve", ...long }));
      expect(await names.claim(claim("eve", 4_999, { holdMs: hold }))).toBe("held");
      expect(await names.claim(claim("eve", 5_000, { holdMs: hold }))).toBe("claimed");
    });

    it("with a zero hold, holds a name only while its tokens live", async () => {
      const names = await fresh();
      await names.claim(claim("fay", 0, { freshKeyHash: "k-fay", holdMs: 0 }));
      expect(await names.claim(claim("fay", TTL - 1, { holdMs: 0, shownKeyHash: "k-fay" }))).toBe(
        "reclaimed",
      );
      // That reclaim's token runs to 2 * TTL - 1.
      expect(await names.claim(claim("fay", 2 * TTL - 2, { holdMs: 0 }))).toBe("held");
      expect(await names.claim(claim("fay", 2 * TTL - 1, { holdMs: 0 }))).toBe("claimed");
    });

    it("gives a free name to exactly one of many simultaneous callers", async () => {
      const names = await fresh();
      const outcomes = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          names.claim(claim("race", 0, { freshKeyHash: `k-${i}` })),
        ),
      );
      expect(outcomes.filter((o) => o === "claimed")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "held")).toHaveLength(24);
      const winner = outcomes.indexOf("claimed");
      expect(await names.claim(claim("race", 1, { shownKeyHash: `k-${winner}` }))).toBe(
        "reclaimed",
      );
    });

    it("keeps names with braces, spaces and other scripts apart", async () => {
      const names = await fresh();
      const odd = ["{ann}", "ann}", "{ann", "ann 🎈", "Ann", "анна"];
      for (const [i, n] of odd.entries()) {
        expect(await names.claim(claim(n, i, { freshKeyHash: `k-${i}` }))).toBe("claimed");
      }
      for (const [i, n] of odd.entries()) {
        expect(await names.claim(claim(n, 10 + i, { shownKeyHash: `k-${i}` }))).toBe("reclaimed");
        expect(await names.claim(claim(n, 20 + i, { shownKeyHash: `k-${(i + 1) % 6}` }))).toBe(
          "held",
        );
      }
    });
  });
}
