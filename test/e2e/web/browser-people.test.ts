import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createParleyClient, type ParleyNodeClient } from "../../../src/client/node.js";
import { type ChatPage, openChatPage } from "../../helpers/browser-chat-page.js";
import { CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import { startWebRig, type WebRig } from "../../helpers/web-page.js";

// Issue 20, the web app: people, not only rooms. In Chromium, against a
// server started as `npm start` starts it (guest sign-in, SQLite): two people
// exchange direct messages from the members panel; a third never sees their
// conversation, not even by its link; unread badges and the count in the
// tab's title rise as messages come and clear as each person reads, in both
// tabs of one person. Everything is read off the page as it shows it.

const CHROMIUM = chromiumPath();
const REQUIRED = process.env.CI === "true";
if (!CHROMIUM && !REQUIRED) console.warn(`test/e2e/web/browser-people.test.ts ${CHROMIUM_MISSING}`);

/** Where the screenshot goes: test-results/, or docs/screenshots/ with PARLEY_UPDATE_SCREENSHOTS=1. */
const SHOTS = fileURLToPath(
  new URL(
    process.env.PARLEY_UPDATE_SCREENSHOTS === "1"
      ? "../../../docs/screenshots/"
      : "../../../test-results/",
    import.meta.url,
  ),
);

/** [room, badge text] of every unread badge the sidebar shows, top to bottom. */
function badges(page: Page): Promise<[string, string][]> {
  return page.$$eval(".unread-badge", (els) =>
    els.map((el): [string, string] => [
      (el.closest("[data-room]") as HTMLElement | null)?.dataset.room ?? "",
      el.textContent ?? "",
    ]),
  );
}

/** [id, name] of every conversation the sidebar lists. */
function conversations(page: Page): Promise<[string, string][]> {
  return page.$$eval(".conversation-link", (els) =>
    els.map((el): [string, string] => [
      (el as HTMLElement).dataset.room ?? "",
      el.querySelector(".conversation-name")?.textContent ?? "",
    ]),
  );
}

/** Every room the rooms lists ("Rooms" and "More rooms") show. */
function listedRooms(page: Page): Promise<string[]> {
  return page.$$eval(".room-link:not(.conversation-link)", (els) =>
    els.map((el) => (el as HTMLElement).dataset.room ?? ""),
  );
}

/** Open `room` (a room or a conversation id) as a link would, and wait until it is live. */
async function go(page: Page, room: string): Promise<void> {
  await page.evaluate((r) => {
    location.hash = r;
  }, room);
  // Polled after the hashchange task ran: the status is that of the room opened.
  await page.waitForFunction(
    (r) =>
      location.hash === `#${r}` &&
      document.querySelector<HTMLElement>(".status")?.dataset.state === "connected",
    room,
  );
}

/**
 * Make the page see itself hidden (another browser tab in front) or visible
 * again, as the browser tells it: document.visibilityState and a
 * visibilitychange event. Headless Chromium shows every page.
 */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, "visibilityState", {
      configurable: true,
      get: () => (h ? "hidden" : "visible"),
    });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

describe.skipIf(!CHROMIUM && !REQUIRED)(
  `people in the web app: conversations, unread badges, the title${CHROMIUM || REQUIRED ? "" : ` (${CHROMIUM_MISSING})`}`,
  () => {
    let rig: WebRig;
    let seed: ParleyNodeClient;
    let ann: ChatPage;
    let bo: ChatPage;
    let cy: ChatPage;
    /** The conversation of ann and bo, once ann opened it. */
    let dm = "";
    /** Ann's second tab, once opened. */
    let tabB2: Page | undefined;

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error(`CI=true and ${CHROMIUM_MISSING}`);
      mkdirSync(SHOTS, { recursive: true });
      rig = await startWebRig("browser-people");
      seed = createParleyClient({ baseUrl: rig.server.url, guest: "seed", guestKeys: false });
      ann = await openChatPage(rig.browser, rig.server.url, "lobby", "ann");
      bo = await openChatPage(rig.browser, rig.server.url, "lobby", "bo");
      cy = await openChatPage(rig.browser, rig.server.url, "lobby", "cy");
    }, 90_000);

    afterAll(async () => {
      await rig?.close();
    });

    it("two people exchange direct messages: ann messages bo from the members panel, bo sees it arrive unread, reads and replies", async () => {
      await ann.page.click('.member[data-name="bo"] .message-button');
      await ann.page.waitForFunction(() => location.hash.startsWith("#dm."));
      dm = (await ann.page.evaluate(() => location.hash)).slice(1);
      expect(dm).toMatch(/^dm\.[a-z2-7]{26}$/);
      await ann.page.waitForSelector(".status[data-state=connected]");
      expect(await ann.page.textContent("#room-title")).toBe("@bo");
      expect(await ann.page.title()).toBe("bo — Parley");
      await expect.poll(() => conversations(ann.page)).toEqual([[dm, "bo"]]);

      // The conversation reaches bo's feed as joined: listed, nothing unread yet.
      await expect.poll(() => conversations(bo.page)).toEqual([[dm, "ann"]]);
      expect(await badges(bo.page)).toEqual([]);

      await ann.send("hi bo, a word in private?");
      await ann.untilSent();
      await expect.poll(() => badges(bo.page)).toEqual([[dm, "1"]]);
      expect(await bo.page.title()).toBe("(1) #lobby — Parley");

      await bo.page.click(`.conversation-link[data-room="${dm}"]`);
      await bo.waitForRows(1, 1);
      expect(await bo.rows()).toEqual([[1, "ann", "hi bo, a word in private?"]]);
      expect(await bo.page.textContent("#room-title")).toBe("@ann");
      await expect.poll(() => bo.page.title()).toBe("ann — Parley");
      expect(await badges(bo.page)).toEqual([]);

      await bo.send("sure, here");
      await bo.untilSent();
      await ann.waitForRows(2, 2);
      expect(await ann.rows()).toEqual([
        [1, "ann", "hi bo, a word in private?"],
        [2, "bo", "sure, here"],
      ]);
      // Each read what is shown: nothing unread on either side.
      expect(await badges(ann.page)).toEqual([]);
      expect(await ann.page.title()).toBe("bo — Parley");
      await ann.page.locator("#app").screenshot({ path: join(SHOTS, "web-conversation.png") });
      expect([...ann.problems, ...bo.problems]).toEqual([]);
    }, 60_000);

    it("a third person's page never shows the conversation, and its link shows not-found", async () => {
      expect(dm).not.toBe("");
      // Activity in the lobby brings every page's feed and room list up to date.
      await bo.page.click('.room-link[data-room="lobby"]');
      await bo.send("back in the lobby");
      await bo.untilSent();
      await cy.waitForRows(1, 1);
      await expect.poll(() => listedRooms(cy.page)).toEqual(["lobby"]);
      expect(await conversations(cy.page)).toEqual([]);
      expect(await cy.page.textContent(".conversations .empty-hint")).toBe(
        "None yet: ✉ beside someone in a room starts one.",
      );
      expect(await cy.page.textContent("#rooms")).not.toContain(dm);

      await go(cy.page, dm);
      await cy.page.waitForSelector(".not-found");
      expect(await cy.page.textContent(".not-found h2")).toBe("Conversation not found");
      expect(await cy.page.textContent(".not-found p")).toBe(
        "There is no such conversation, or you are not in it.",
      );
      expect(await cy.rows()).toEqual([]);
      expect(await cy.page.$(".composer")).toBeNull();
      expect(await cy.page.textContent("#room-title")).toBe("@Conversation");
      expect(await cy.page.title()).toBe("Conversation — Parley");
      // Still not listed anywhere after the refused join: a lobby message that reaches cy's
      // feed after it (her badge for the lobby) finds no conversation there either.
      await bo.send("anyone seen cy?");
      await bo.untilSent();
      await expect.poll(() => badges(cy.page)).toEqual([["lobby", "1"]]);
      expect(await conversations(cy.page)).toEqual([]);
      expect(await listedRooms(cy.page)).toEqual(["lobby"]);
      expect(await cy.page.title()).toBe("(1) Conversation — Parley");
      expect(await cy.page.textContent("body")).not.toContain("private");
      expect(cy.problems).toEqual([]);
    }, 60_000);

    it("unread badges and the title's count rise as messages come and clear as each person reads, in both tabs of one person", async () => {
      expect(dm).not.toBe("");
      // Ann joins #design by opening it, then goes back to the lobby; a second tab of hers opens there.
      await go(ann.page, "design");
      await go(ann.page, "lobby");
      // Ann is a member of #design now: listed with her rooms, not with the others.
      await ann.page.waitForSelector('#rooms > .room-list .room-link[data-room="design"]');
      const tabA = ann.page;
      const tabB = await tabA.context().newPage();
      await tabB.goto(`${rig.server.url}/#lobby`);
      await tabB.waitForSelector(".status[data-state=connected]");
      await expect.poll(() => conversations(tabB)).toEqual([[dm, "bo"]]);
      for (const tab of [tabA, tabB]) {
        // The lobby's message from bo (sent while ann was in the conversation) is read now.
        await expect.poll(() => tab.title()).toBe("#lobby — Parley");
        expect(await badges(tab)).toEqual([]);
      }

      // Three in #design and two from bo: both tabs count them, in the sidebar and the title.
      for (const n of [1, 2, 3]) await seed.send("design", "seed", `design note ${n}`);
      await go(bo.page, dm);
      await bo.send("one more thing");
      await bo.send("and another");
      await bo.untilSent();
      for (const tab of [tabA, tabB]) {
        await expect.poll(() => tab.title()).toBe("(5) #lobby — Parley");
        expect(await badges(tab)).toEqual([
          ["design", "3"],
          [dm, "2"],
        ]);
      }
      await tabA.locator("#rooms").screenshot({ path: join(SHOTS, "web-sidebar.png") });

      // Reading #design in tab A clears it in tab B too.
      await tabA.click('.room-link[data-room="design"]');
      await tabA.waitForSelector("[data-seq='3']");
      await expect.poll(() => tabB.title()).toBe("(2) #lobby — Parley");
      expect(await badges(tabB)).toEqual([[dm, "2"]]);
      expect(await tabA.title()).toBe("(2) #design — Parley");
      expect(await badges(tabA)).toEqual([[dm, "2"]]);

      // Reading the conversation in tab B clears it in tab A: nothing unread anywhere.
      await tabB.click(`.conversation-link[data-room="${dm}"]`);
      await tabB.waitForSelector("[data-seq='4']");
      await expect.poll(() => tabA.title()).toBe("#design — Parley");
      expect(await badges(tabA)).toEqual([]);
      expect(await tabB.title()).toBe("bo — Parley");
      expect(await badges(tabB)).toEqual([]);

      // Bo read what he sent and what ann wrote: nothing unread for him either.
      expect(await badges(bo.page)).toEqual([]);
      expect(await bo.page.title()).toBe("ann — Parley");
      expect(ann.problems).toEqual([]);
      tabB2 = tabB;
    }, 90_000);

    it("a hidden tab marks nothing read: what comes to its open conversation counts in its title until it is seen", async () => {
      expect(tabB2).toBeDefined();
      const tabA = ann.page;
      const tabB = tabB2 as Page;
      await setHidden(tabB, true);
      await bo.send("are you there?");
      await bo.untilSent();
      await tabB.waitForSelector("[data-seq='5']");
      // Shown in the hidden tab, yet unread: in its title and beside the conversation, and in tab A.
      await expect.poll(() => tabB.title()).toBe("(1) bo — Parley");
      expect(await badges(tabB)).toEqual([[dm, "1"]]);
      await expect.poll(() => tabA.title()).toBe("(1) #design — Parley");
      expect(await badges(tabA)).toEqual([[dm, "1"]]);

      // Looking at it reads it, in both tabs.
      await setHidden(tabB, false);
      await expect.poll(() => tabA.title()).toBe("#design — Parley");
      expect(await badges(tabA)).toEqual([]);
      expect(await tabB.title()).toBe("bo — Parley");
      expect(await badges(tabB)).toEqual([]);
    }, 60_000);

    it("leaves one of your rooms from the room list (not the open one), and it stays left after a reload", async () => {
      const lea = await openChatPage(rig.browser, rig.server.url, "to-leave", "lea");
      await seed.send("to-leave", "seed", "something to read");
      await lea.page.evaluate(() => {
        location.hash = "to-stay";
      });
      const mine = () =>
        lea.page.$$eval("#rooms .room-list:not(.other-rooms) li", (items) =>
          items.map((li) => [
            li.querySelector(".room-link")?.getAttribute("data-room"),
            li.querySelector(".leave-button")?.getAttribute("aria-label") ?? null,
          ]),
        );
      await expect.poll(mine).toEqual(
        expect.arrayContaining([
          ["to-leave", "Leave #to-leave"],
          ["to-stay", null],
        ]),
      );
      await lea.page.click('.leave-button[aria-label="Leave #to-leave"]');
      // Left: out of your rooms, and, having messages, listed under "More rooms" to join again.
      await expect.poll(async () => (await mine()).map(([room]) => room)).not.toContain("to-leave");
      await lea.page.waitForSelector('#rooms .other-rooms .room-link[data-room="to-leave"]');
      await lea.page.reload();
      await lea.page.waitForSelector(".status[data-state=connected]");
      await lea.page.waitForSelector('#rooms .other-rooms .room-link[data-room="to-leave"]');
      expect((await mine()).map(([room]) => room)).not.toContain("to-leave");
      await lea.page.context().close();
    });

    it("shows a long name in the members panel at a readable width, whole on hover, beside a square avatar", async () => {
      const name = "maximilian-of-the-long-names";
      const max = await openChatPage(rig.browser, rig.server.url, "long-names", name);
      const kit = await openChatPage(rig.browser, rig.server.url, "long-names", "kit");
      const row = kit.page.locator(`.member[data-name="${name}"]`);
      await row.waitFor();
      const box = async (selector: string) => {
        const b = await row.locator(selector).boundingBox();
        return b === null ? undefined : [Math.round(b.width), Math.round(b.height)];
      };
      expect(await box(".avatar")).toEqual([24, 24]);
      expect(await row.locator(".name").getAttribute("title")).toBe(name);
      // 220 px of column: the word "message" beside it left about 50 px (6 letters).
      expect((await box(".name"))?.[0]).toBeGreaterThanOrEqual(90);
      expect(await row.locator(".message-button").getAttribute("aria-label")).toBe(
        `Message ${name}`,
      );
      for (const page of [max, kit]) await page.page.context().close();
    });
  },
);
