import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../../../scripts/build-web.js";
import { CHROMIUM_ARGS, CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import { freePort } from "../../helpers/free-port.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";

// Issue 19's must-show: the server on its default settings (guest sign-in,
// SQLite in ./data, as `npm start` runs it: only the port and the freshly
// built web app are named), two people talking in Chromium, the server
// stopped with SIGTERM and started again on the same port and data. Both
// pages carry on by themselves (no signed-out screen, no reload), every
// message shows once in order on both, and neither page logs a console
// error from its first load to the end.

const CHROMIUM = chromiumPath();
const REQUIRED = process.env.CI === "true";
if (!CHROMIUM && !REQUIRED)
  console.warn(`test/e2e/web/browser-restart.test.ts ${CHROMIUM_MISSING}`);

const ROOM = "lobby";
/** What Chromium logs for a request to a port nothing listens on. */
const DOWN = "Failed to load resource: net::ERR_CONNECTION_REFUSED";
/** What Chromium logs for a WebSocket to a port nothing listens on (the page's socket). */
const SOCKET_DOWN =
  /^WebSocket connection to 'ws:\/\/localhost:\d+\/ws' failed: Error in connection establishment: net::ERR_CONNECTION_REFUSED$/;

describe.skipIf(!CHROMIUM && !REQUIRED)(
  `the web app across a restart of a default server${CHROMIUM || REQUIRED ? "" : ` (${CHROMIUM_MISSING})`}`,
  () => {
    let dir: string;
    let port: number;
    let server: SpawnedServer;
    let browser: Browser;
    /** Console errors and uncaught exceptions, per page, from its first load. */
    const problems: string[] = [];
    /** Main-frame navigations per page (1 = the first load, no reload). */
    const loads = new Map<Page, number>();

    async function start(): Promise<void> {
      server = await spawnServer(
        ["--port", String(port), "--web-dir", join(dir, "web")],
        {},
        undefined,
        { cwd: dir, defaults: true },
      );
    }

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error("CI=true and no chromium: .ci/run should install it");
      dir = mkdtempSync(join(tmpdir(), "parley-browser-restart-"));
      await buildWeb(join(dir, "web"));
      port = await freePort();
      await start();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (server && server.process.exitCode === null) server.process.kill("SIGKILL");
      await server?.exited;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function person(name: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
      const page = await context.newPage();
      page.on("console", (m) => {
        // While the server is down, Chromium itself logs each refused connection (the
        // page's reconnect attempts, fetch or WebSocket): that is the network, not an error of the page.
        if (m.type() === "error" && m.text() !== DOWN && !SOCKET_DOWN.test(m.text()))
          problems.push(`${name} console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`${name} pageerror: ${e.message}`));
      page.on("framenavigated", (frame) => {
        if (frame === page.mainFrame()) loads.set(page, (loads.get(page) ?? 0) + 1);
      });
      await page.goto(`${server.url}/#${ROOM}`);
      await page.fill("#display-name", name);
      await page.click("text=Start chatting");
      await page.waitForSelector(".status[data-state=connected]");
      return page;
    }

    async function send(page: Page, text: string): Promise<void> {
      await page.fill(".composer textarea", text);
      await page.press(".composer textarea", "Enter");
    }

    /** [seq, author, text] of every message row, top to bottom. */
    const rows = (page: Page) =>
      page.$$eval("[data-seq]", (els) =>
        els.map((el) => [
          Number((el as HTMLElement).dataset.seq),
          (el as HTMLElement).dataset.author,
          el.querySelector(".body")?.textContent,
        ]),
      );

    it("two pages talk, the server restarts, and both carry on with no signed-out screen, no reload and no console error", async () => {
      const ann = await person("ann");
      const bob = await person("bob");
      await send(ann, "before the restart");
      await bob.waitForSelector("[data-seq='1']");
      await send(bob, "heard you");
      await ann.waitForSelector("[data-seq='2']");

      server.process.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      await start();

      // Sent while the page may still be reconnecting: the send retries until the server is back.
      await send(ann, "after the restart");
      await bob.waitForSelector("[data-seq='3']");
      await send(bob, "still here");
      const expected = [
        [1, "ann", "before the restart"],
        [2, "bob", "heard you"],
        [3, "ann", "after the restart"],
        [4, "bob", "still here"],
      ];
      for (const page of [ann, bob]) {
        await page.waitForSelector("[data-seq='4']");
        await page.waitForSelector(".status[data-state=connected]");
        expect(await rows(page)).toEqual(expected);
        expect(await page.$(".session-ended")).toBeNull();
        expect(await page.$(".welcome")).toBeNull();
        expect(loads.get(page)).toBe(1);
      }
      expect(await ann.textContent("#identity .name")).toBe("ann");
      expect(await bob.textContent("#identity .name")).toBe("bob");
      expect(problems).toEqual([]);
    }, 90_000);
  },
);
