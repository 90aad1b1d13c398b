import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../../../scripts/build-web.js";
import { createParleyClient } from "../../../src/client/index.js";
import { CHROMIUM_ARGS, CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import { freePort } from "../../helpers/free-port.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";

// The web app in real headless Chromium (Debian's package, driven by
// playwright-core; never a downloaded browser) against a real server process
// with a SQLite store, restarted on the same port mid-test.

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** The screenshots this test leaves for people to look at (gitignored). */
const SCREENSHOTS = {
  desktop: join(ROOT, "test-results", "chat.png"),
  phone: join(ROOT, "test-results", "chat-phone.png"),
};

const CHROMIUM = chromiumPath();
// Under CI the browser must be there (.ci/run installs it): a skip would hide a broken setup.
const REQUIRED = process.env.CI === "true";
const SKIP_REASON = CHROMIUM_MISSING;
if (!CHROMIUM && !REQUIRED) console.warn(`test/e2e/web/browser.test.ts ${SKIP_REASON}`);

const ROOM = "browser";

describe.skipIf(!CHROMIUM && !REQUIRED)(
  `the web app in Chromium${CHROMIUM || REQUIRED ? "" : ` (${SKIP_REASON})`}`,
  () => {
    let dir: string;
    let args: string[];
    let server: SpawnedServer;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    const dialogs: string[] = [];
    let alice: Page;
    let bob: Page;

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error(`CI=true and ${SKIP_REASON}: .ci/run should install it`);
      dir = mkdtempSync(join(tmpdir(), "parley-browser-"));
      await buildWeb(join(dir, "web"));
      const port = await freePort();
      args = [
        ...["--port", String(port), "--host", "127.0.0.1"],
        ...["--store", `sqlite:${join(dir, "parley.db")}`, "--web-dir", join(dir, "web")],
      ];
      server = await spawnServer(args);
      // launch() gives every run a fresh temporary profile (user-data-dir).
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      alice = await openAs("alice", { width: 1200, height: 760 });
      bob = await openAs("bob", { width: 390, height: 760 });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (server && server.process.exitCode === null) server.process.kill("SIGKILL");
      await server?.exited;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** A new browser context (its own storage), the app opened in the room, a name chosen. */
    async function openAs(name: string, viewport: { width: number; height: number }) {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`${server.url}/#${ROOM}`);
      await page.fill("#display-name", name);
      await page.click("text=Start chatting");
      await page.waitForSelector(".status[data-state=connected]");
      return page;
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

    async function send(page: Page, text: string) {
      await page.fill(".composer textarea", text);
      await page.press(".composer textarea", "Enter");
    }

    it("shows a message sent from one page in both, with the same seq", async () => {
      await alice.waitForSelector(".member[data-name=bob]");
      await send(alice, "hello from alice");
      for (const page of [alice, bob]) {
        await page.waitForSelector("[data-seq='1']");
        expect(await rows(page)).toEqual([[1, "alice", "hello from alice"]]);
      }
      expect(await alice.inputValue(".composer textarea")).toBe("");
    });

    it("shows bob typing on alice's page, and clears it when he empties the box", async () => {
      await bob.fill(".composer textarea", "I am typ");
      await alice.waitForFunction(
        () => document.querySelector(".typing")?.textContent === "bob is typing…",
      );
      await bob.fill(".composer textarea", "");
      await alice.waitForFunction(() => document.querySelector(".typing")?.textContent === "");
    });

    it("shows markup in a message as text and runs nothing", async () => {
      const xss = "<img src=x onerror=alert(1)>";
      await send(bob, xss);
      for (const page of [alice, bob]) {
        await page.waitForSelector("[data-seq='2']");
        expect((await rows(page))[1]).toEqual([2, "bob", xss]);
        expect(await page.$$eval(".messages img", (imgs) => imgs.length)).toBe(0);
      }
      expect(dialogs).toEqual([]);
    });

    it("survives a server restart while a third client sends: every message once, in order, no reload; EventSource resumes by Last-Event-ID", async () => {
      for (const page of [alice, bob]) {
        await page.evaluate(() => {
          const w = window as unknown as {
            sameDocument: boolean;
            states: string[];
            labels: string[];
          };
          w.sameDocument = true;
          w.states = [];
          w.labels = [];
          const status = document.querySelector(".status") as HTMLElement;
          new MutationObserver(() => {
            w.states.push(status.dataset.state ?? "");
            // Whether the state's words show, not only its dot.
            const label = status.querySelector(".label");
            w.labels.push(
              `${status.dataset.state} ${label ? getComputedStyle(label).display : "-"}`,
            );
          }).observe(status, { attributes: true });
        });
      }
      // A plain EventSource in bob's page: no ?since, so only Last-Event-ID can resume it.
      await bob.evaluate((room) => {
        const w = window as unknown as { sse: { event: string; id: string }[] };
        w.sse = [];
        const source = new EventSource(`/rooms/${room}/events`);
        for (const event of ["ready", "message", "end"]) {
          source.addEventListener(event, (e) => {
            w.sse.push({ event, id: (e as MessageEvent).lastEventId });
          });
        }
      }, ROOM);
      await bob.waitForFunction(() => (window as unknown as { sse: unknown[] }).sse.length > 0);

      const carol = createParleyClient({
        baseUrl: server.url,
        protocol: "connect",
        httpVersion: "1.1",
        backoff: { initialDelayMs: 100, maxDelayMs: 1000 },
        sendAttempts: 60,
      });
      const lines = ["deploy started", "tests are green", "rolling out", "cache warmed", "done"];
      const total = 30;
      let restarted: Promise<void> | undefined;
      for (let i = 1; i <= total; i++) {
        await carol.send(ROOM, "carol", `${lines[i % lines.length]} (${i}/${total})`);
        if (i === 10) {
          restarted = (async () => {
            server.process.kill("SIGTERM");
            expect(await server.exited).toBe(0);
            server = await spawnServer(args);
          })();
        }
        await new Promise((r) => setTimeout(r, 40));
      }
      await restarted;

      const history = await chatClient(server.url, "connect-h1").history({
        room: ROOM,
        limit: 100,
      });
      const expected = history.messages.map((m) => [Number(m.seq), m.author, m.text]);
      expect(expected.map((r) => r[0])).toEqual(Array.from({ length: total + 2 }, (_, i) => i + 1));
      for (const page of [alice, bob]) {
        await page.waitForFunction(
          (n) => document.querySelectorAll("[data-seq]").length >= n,
          expected.length,
          { timeout: 20_000 },
        );
        expect(await rows(page)).toEqual(expected);
        const seen = await page.evaluate(() => {
          const w = window as unknown as { sameDocument?: boolean; states: string[] };
          return { sameDocument: w.sameDocument, states: w.states };
        });
        expect(seen.sameDocument).toBe(true);
        expect(seen.states.some((s) => s !== "connected")).toBe(true);
        expect(seen.states.at(-1)).toBe("connected");
        // One restart is one loss: said once, and its end once.
        const notices = await page.$$eval(".notice", (els) => els.map((el) => el.textContent));
        expect([
          notices.filter((n) => n === "Connection lost. Reconnecting…").length,
          notices.filter((n) => n === "Reconnected.").length,
        ]).toEqual([1, 1]);
        // At phone width (bob) the dot alone says connected; any other state is said in words.
        const labels: string[] = await page.evaluate(
          () => (window as unknown as { labels: string[] }).labels,
        );
        const phone = page === bob;
        expect(labels.filter((l) => !l.startsWith("connected ")).length).toBeGreaterThan(0);
        for (const l of labels) {
          const connected = l.startsWith("connected ");
          expect(l, `${phone ? "phone" : "desktop"}: ${l}`).toMatch(
            phone && connected ? / none$/ : / (?!none$)\S+$/,
          );
        }
      }

      const sse = await bob.evaluate(
        () => (window as unknown as { sse: { event: string; id: string }[] }).sse,
      );
      const readies = sse.filter((e) => e.event === "ready");
      const firstReady = Number(readies[0]?.id);
      const lastSeq = Number(history.lastSeq);
      // Every message after the first ready exactly once, in order, across the restart.
      await bob.waitForFunction(
        (last) =>
          (window as unknown as { sse: { id: string }[] }).sse.some((e) => Number(e.id) === last),
        lastSeq,
      );
      const final = await bob.evaluate(
        () => (window as unknown as { sse: { event: string; id: string }[] }).sse,
      );
      const finalIds = final.filter((e) => e.event === "message").map((e) => Number(e.id));
      expect(finalIds).toEqual(
        Array.from({ length: lastSeq - firstReady }, (_, i) => firstReady + 1 + i),
      );
      // The server said goodbye, and the reconnect's ready resumed at the last id received.
      const ends = final.findIndex((e) => e.event === "end");
      const second = final.filter((e) => e.event === "ready")[1];
      expect(ends).toBeGreaterThan(0);
      expect(Number(second?.id)).toBe(
        Math.max(
          firstReady,
          ...final
            .slice(0, ends)
            .filter((e) => e.event === "message")
            .map((e) => Number(e.id)),
        ),
      );
    });

    it("keeps the view where the reader scrolled when a message arrives, and offers a jump to it", async () => {
      const scroller = ".messages";
      await alice.$eval(scroller, (el) => {
        el.scrollTop = 120;
      });
      const before = await alice.$eval(scroller, (el) => el.scrollTop);
      const count = (await rows(alice)).length;
      const carol = chatClient(server.url, "connect-h1");
      await carol.send({ room: ROOM, author: "carol", text: "one more thing" });
      await alice.waitForFunction((n) => document.querySelectorAll("[data-seq]").length > n, count);
      expect(await alice.$eval(scroller, (el) => el.scrollTop)).toBe(before);
      expect(await alice.textContent(".jump")).toBe("1 new message ↓");
      await alice.click(".jump");
      const gap = await alice.$eval(
        scroller,
        (el) => el.scrollHeight - el.scrollTop - el.clientHeight,
      );
      expect(gap).toBeLessThan(2);
      expect(await alice.isHidden(".jump")).toBe(true);
    });

    it("loads earlier messages with History when the reader scrolls to the top, keeping the view", async () => {
      const room = "long-history";
      const carol = chatClient(server.url, "connect-h1");
      for (let i = 1; i <= 120; i++) await carol.send({ room, author: "carol", text: `line ${i}` });
      // alice's context remembers her name: the room opens directly.
      const page = await alice.context().newPage();
      await page.goto(`${server.url}/#${room}`);
      await page.waitForSelector(".status[data-state=connected]");
      const seqs = async () => (await rows(page)).map((r) => r[0]);
      const range = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => from + i);
      expect(await seqs()).toEqual(range(71, 120));

      for (const [first, edge] of [
        [21, "Scroll up for earlier messages"],
        [1, `This is the beginning of #${room}.`],
      ] as const) {
        const top = await page.$eval("[data-seq]", (el) => (el as HTMLElement).dataset.seq);
        await page.$eval(".messages", (el) => {
          el.scrollTop = 0;
        });
        await page.waitForFunction(
          (n) => document.querySelector("[data-seq]")?.getAttribute("data-seq") === String(n),
          first,
        );
        expect(await seqs()).toEqual(range(first, 120));
        expect(await page.textContent(".history-edge")).toBe(edge);
        // The message that was at the top is still in view: the list grew above it.
        const visible = await page.$eval(`[data-seq='${top}']`, (el) => {
          const box = el.getBoundingClientRect();
          const view = (document.querySelector(".messages") as HTMLElement).getBoundingClientRect();
          return box.top >= view.top && box.bottom <= view.bottom;
        });
        expect(visible).toBe(true);
      }
      await page.close();
    });

    it("leaves screenshots of the chat at desktop and phone width", async () => {
      await send(bob, "Nice: the restart did not cost us a single message.");
      await send(alice, "Confirmed here too, all in order. Shipping it!");
      await alice.waitForSelector(`[data-seq='${32 + 1 + 2}']`);
      await bob.fill(".composer textarea", "On my way");
      await alice.waitForFunction(
        () => document.querySelector(".typing")?.textContent === "bob is typing…",
      );
      mkdirSync(join(ROOT, "test-results"), { recursive: true });
      await alice.screenshot({ path: SCREENSHOTS.desktop });
      await bob.screenshot({ path: SCREENSHOTS.phone });
      expect(await alice.title()).toBe(`#${ROOM} — Parley`);
    });

    it("starts a room afresh, saying so, when a restarted server has a new log (memory store)", async () => {
      const port = await freePort();
      const memoryArgs = ["--port", String(port), "--host", "127.0.0.1", "--store", "memory:"];
      let memory = await spawnServer([...memoryArgs, "--web-dir", join(dir, "web")]);
      try {
        const rpc = () => chatClient(memory.url, "connect-h1");
        await rpc().send({ room: "fleeting", author: "carol", text: "from the old log" });
        const page = await alice.context().newPage();
        await page.goto(`${memory.url}/#fleeting`);
        // Another port is another origin: the name must be chosen again.
        await page.fill("#display-name", "alice");
        await page.click("text=Start chatting");
        await page.waitForSelector("[data-seq='1']");
        memory.process.kill("SIGTERM");
        await memory.exited;
        memory = await spawnServer([...memoryArgs, "--web-dir", join(dir, "web")]);
        await rpc().send({ room: "fleeting", author: "carol", text: "from the new log" });
        await page.waitForSelector(
          '.notice:text-is("This room\'s history was reset on the server; showing it afresh.")',
        );
        await page.waitForFunction(
          () => document.querySelector("[data-seq='1'] .body")?.textContent === "from the new log",
        );
        expect(await rows(page)).toEqual([[1, "carol", "from the new log"]]);
        await page.close();
      } finally {
        memory.process.kill("SIGKILL");
        await memory.exited;
      }
    });

    it("opens the drawers on a phone and closes them with Escape", async () => {
      const drawn = () =>
        bob.evaluate(() => ({
          open: ["show-rooms", "show-members"].filter((c) =>
            document.querySelector(".app")?.classList.contains(c),
          ),
          expanded: ["rooms-toggle", "members-toggle"].map((id) =>
            document.getElementById(id)?.getAttribute("aria-expanded"),
          ),
        }));
      for (const which of ["rooms", "members"]) {
        await bob.click(`#${which}-toggle`);
        expect(await drawn()).toEqual({
          open: [`show-${which}`],
          expanded: which === "rooms" ? ["true", "false"] : ["false", "true"],
        });
        await bob.keyboard.press("Escape");
        expect(await drawn()).toEqual({ open: [], expanded: ["false", "false"] });
      }
    });

    it("tells alice when bob closes his tab, and lists him no more", async () => {
      await bob.context().close();
      await alice.waitForSelector(".notice:text-is('bob left')");
      expect(
        await alice.$$eval(".member", (els) => els.map((el) => el.getAttribute("data-name"))),
      ).toEqual(["alice"]);
      // His EventSource (a nameless member) goes too; it may close a moment after the page's stream.
      const rpc = chatClient(server.url, "connect-h1");
      await expect
        .poll(async () => (await rpc.listMembers({ room: ROOM })).members.map((m) => m.author))
        .toEqual(["alice"]);
    });
  },
);
