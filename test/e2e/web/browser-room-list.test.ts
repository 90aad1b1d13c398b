import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../../../scripts/build-web.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { CHROMIUM_ARGS, CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import { startTestServer } from "../../helpers/test-server.js";

// Issue 14 point 10: the room list's member badge showed 0 for the room you
// were in, for about a second after you entered (until the next ListRooms).
// The page records every value the open room's badge takes, and the moment
// you appear in the room's member list.

const CHROMIUM = chromiumPath();
const REQUIRED = process.env.CI === "true";
if (!CHROMIUM && !REQUIRED) {
  console.warn(`test/e2e/web/browser-room-list.test.ts ${CHROMIUM_MISSING}`);
}

const ROOM = "badges";

/** Runs in the page before its scripts: a timeline of "badge:N" and "in:NAME" entries. */
function recordBadge(args: { room: string; me: string }): void {
  const timeline: string[] = [];
  (window as unknown as { timeline: string[] }).timeline = timeline;
  let badge: string | undefined;
  let present = false;
  const look = () => {
    const now = document.querySelector(
      `.room-link[data-room="${args.room}"] .count-badge`,
    )?.textContent;
    if (now != null && now !== badge) {
      badge = now;
      timeline.push(`badge:${now}`);
    }
    if (!present && document.querySelector(`.member[data-name="${args.me}"]`)) {
      present = true;
      timeline.push(`in:${args.me}`);
    }
  };
  new MutationObserver(look).observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
  });
}

describe.skipIf(!CHROMIUM && !REQUIRED)(
  `the room list's member badge${CHROMIUM || REQUIRED ? "" : ` (${CHROMIUM_MISSING})`}`,
  () => {
    let dir: string;
    let server: ParleyServer;
    let browser: Browser;

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error(`CI=true and ${CHROMIUM_MISSING}: .ci/run should install it`);
      dir = mkdtempSync(join(tmpdir(), "parley-badge-"));
      await buildWeb(join(dir, "web"));
      server = await startTestServer({ webDir: join(dir, "web") });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function enter(name: string): Promise<Page> {
      const page = await (await browser.newContext()).newPage();
      await page.addInitScript(recordBadge, { room: ROOM, me: name });
      await page.goto(`${server.url}/#${ROOM}`);
      await page.fill("#display-name", name);
      await page.click("text=Start chatting");
      await page.waitForSelector(`.member[data-name="${name}"]`);
      return page;
    }

    const timeline = (page: Page) =>
      page.evaluate(() => (window as unknown as { timeline: string[] }).timeline);

    it("never shows 0 for the room you are in: 1 when you arrive, then each join and leave at once", async () => {
      const alice = await enter("alice");
      // Before the name is chosen nothing is asked of the server, so no count
      // is shown (not a 0 it does not know); while joining it shows "…"; by
      // the time alice is listed as a member the badge counts her.
      expect(await timeline(alice)).toEqual(["badge:…", "badge:1", "in:alice"]);

      // ListRooms refreshes (a second after activity, and every 5 s) change nothing.
      await alice.waitForTimeout(6_000);
      expect(await timeline(alice)).toEqual(["badge:…", "badge:1", "in:alice"]);

      const bob = await enter("bob");
      await expect.poll(() => timeline(alice)).toContain("badge:2");
      expect(await timeline(bob)).toEqual(["badge:…", "badge:2", "in:bob"]);

      await bob.context().close();
      await expect
        .poll(() => timeline(alice))
        .toEqual(["badge:…", "badge:1", "in:alice", "badge:2", "badge:1"]);
      const shown = await alice.textContent(`.room-link[data-room="${ROOM}"] .count-badge`);
      expect(shown).toBe("1");
    }, 60_000);
  },
);
