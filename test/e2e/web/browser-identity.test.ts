import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../../../scripts/build-web.js";
import { CHROMIUM_ARGS, chromiumPath } from "../../helpers/chromium.js";
import { freePort } from "../../helpers/free-port.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";
import { watchCalls } from "../../helpers/web-page.js";

// The web app signing in, in real headless Chromium (Debian's package, driven
// by playwright-core) against a server process started with --auth guest:
// login by name, a held name refused, renewal past the first token's expiry
// with the subscription still open, and the screens for a session that
// expired offline or whose token the server refuses. Then --auth jwt.

const CHROMIUM = chromiumPath();
// Under CI the browser must be there (.ci/run installs it): a skip would hide a broken setup.
const REQUIRED = process.env.CI === "true";
const SKIP_REASON =
  "skipped: no chromium (apt-get install chromium, or set CHROME_PATH / PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH)";
if (!CHROMIUM && !REQUIRED) console.warn(`test/e2e/web/browser-identity.test.ts ${SKIP_REASON}`);

const ROOM = "signin";
const SECRET_A = "browser-identity-secret-a-0123456789abcdef";
const SECRET_B = "browser-identity-secret-b-0123456789abcdef";
/** The shortest guest token the server allows, so renewal happens during the test. */
const SHORT_TTL_S = 10;
/** The server's clock skew allowance: a token is refused only this long after its exp. */
const CLOCK_SKEW_S = 30;

/** A token's exp (s), read without verifying. */
function expOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
  return payload.exp as number;
}

/** Poll `condition` until it holds (the test's timeout bounds the wait). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 200));
}

describe.skipIf(!CHROMIUM && !REQUIRED)(
  `signing in to the web app in Chromium${CHROMIUM || REQUIRED ? "" : ` (${SKIP_REASON})`}`,
  () => {
    let dir: string;
    let port: number;
    let server: SpawnedServer;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    let alice: Page;
    let bob: Page;
    /** The bearer token of each ChatService call alice's page made, in order. */
    const aliceCalls: { method: string; token: string | undefined }[] = [];

    async function startServer(flags: string[]): Promise<void> {
      server = await spawnServer([
        ...["--port", String(port), "--host", "127.0.0.1", "--store", "memory:"],
        ...["--web-dir", join(dir, "web"), ...flags],
      ]);
    }

    async function stopServer(): Promise<void> {
      server.process.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error("CI=true and no chromium: .ci/run should install it");
      dir = mkdtempSync(join(tmpdir(), "parley-browser-identity-"));
      await buildWeb(join(dir, "web"));
      port = await freePort();
      await startServer([
        ...["--auth", "guest", "--auth-secret-file", secretFile(SECRET_A)],
        ...["--guest-token-ttl-s", String(SHORT_TTL_S)],
      ]);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (server && server.process.exitCode === null) server.process.kill("SIGKILL");
      await server?.exited;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** A page in a browser context of its own (its own storage: another person). */
    async function newPerson(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${server.url}/#${ROOM}`);
      return page;
    }

    async function logIn(page: Page, name: string): Promise<void> {
      await page.fill("#display-name", name);
      await page.click("text=Start chatting");
    }

    const connected = (page: Page) => page.waitForSelector(".status[data-state=connected]");

    /** Whether the welcome card's error shows in the page's error colour (--bad), not its grey. */
    const inErrorColour = (page: Page) =>
      page.$eval(".welcome .field-error", (el) => {
        const probe = document.createElement("span");
        probe.style.color = "var(--bad)";
        document.body.append(probe);
        const bad = getComputedStyle(probe).color;
        probe.remove();
        return getComputedStyle(el).color === bad;
      });

    /** [seq, author, text] of every message row, top to bottom. */
    const rows = (page: Page) =>
      page.$$eval("[data-seq]", (els) =>
        els.map((el) => [
          Number((el as HTMLElement).dataset.seq),
          (el as HTMLElement).dataset.author,
          el.querySelector(".body")?.textContent,
        ]),
      );

    async function send(page: Page, text: string): Promise<void> {
      await page.fill(".composer textarea", text);
      await page.press(".composer textarea", "Enter");
    }

    /** The session-ended screen's heading and sentence, once it shows. */
    async function endedScreen(page: Page): Promise<[string | null, string | null]> {
      await page.waitForSelector(".session-ended");
      return [
        await page.textContent(".session-ended h2"),
        await page.textContent(".session-ended .detail"),
      ];
    }

    it("logs in by name; a second person and a Node client see the message with its author", async () => {
      alice = await newPerson();
      // Over fetch or on the page's WebSocket, each call with the token it carries.
      watchCalls(alice, (method, token) => aliceCalls.push({ method, token }));
      expect(await alice.textContent(".welcome h2")).toBe("Welcome to Parley");
      await logIn(alice, "alice");
      await connected(alice);
      expect(await alice.textContent("#identity .name")).toBe("alice");

      bob = await newPerson();
      await logIn(bob, "bob");
      await connected(bob);
      await alice.waitForSelector(".member[data-name=bob]");

      await send(alice, "hello, signed in");
      for (const page of [alice, bob]) {
        await page.waitForSelector("[data-seq='1']");
        expect(await rows(page)).toEqual([[1, "alice", "hello, signed in"]]);
      }
      // Every call after her Login carried her token (the first Login carries none).
      const login = aliceCalls.findLastIndex((c) => c.method === "Login" && c.token === undefined);
      expect(aliceCalls.slice(login + 1).filter((c) => c.token === undefined)).toEqual([]);

      const reader = await hsToken(SECRET_A, { sub: "reader", scope: "chat:read" });
      const history = await chatClient(server.url).history(
        { room: ROOM, limit: 10 },
        { headers: { authorization: `Bearer ${reader}` } },
      );
      expect(history.messages.map((m) => [m.seq, m.author, m.text])).toEqual([
        [1n, "alice", "hello, signed in"],
      ]);
    });

    it("refuses a name another guest holds, says so, and keeps the field for another try", async () => {
      const page = await newPerson();
      await logIn(page, "alice");
      await page.waitForFunction(
        () => document.querySelector(".welcome .field-error")?.textContent !== "",
      );
      expect(await page.textContent(".welcome .field-error")).toBe(
        'The name "alice" is in use by someone else. Pick another name.',
      );
      expect(await inErrorColour(page)).toBe(true);
      expect(await page.inputValue("#display-name")).toBe("alice");
      await logIn(page, "carl");
      await connected(page);
      expect(await page.textContent("#identity .name")).toBe("carl");
      await page.context().close();
    });

    it("says the server cannot be reached when a login finds no network, and logs in once it is back", async () => {
      const page = await newPerson();
      await page.context().setOffline(true);
      await logIn(page, "fay");
      await page.waitForFunction(
        () => document.querySelector(".welcome .field-error")?.textContent !== "",
        undefined,
        { timeout: 45_000 },
      );
      expect(await page.textContent(".welcome .field-error")).toBe(
        "Could not reach the server: it may be down or restarting. Try again in a moment.",
      );
      expect(await inErrorColour(page)).toBe(true);
      await page.context().setOffline(false);
      await logIn(page, "fay");
      await connected(page);
      expect(await page.textContent("#identity .name")).toBe("fay");
      await page.context().close();
    }, 60_000);

    it("renews the token before it expires: past the first token's expiry chat goes on, on the same subscription", async () => {
      await alice.evaluate(() => {
        const w = window as unknown as { states: string[] };
        w.states = [];
        new MutationObserver(() => {
          w.states.push(document.getElementById("status")?.dataset.state ?? "");
        }).observe(document.getElementById("status") as HTMLElement, {
          attributes: true,
          attributeFilter: ["data-state"],
        });
      });
      // The open room's stream: a Chat on the page's WebSocket.
      const first = aliceCalls.find((c) => c.method === "Chat")?.token;
      expect(first).toBeDefined();
      const firstToken = first as string;
      // Wait until the server refuses the first token for good (its exp plus the clock skew).
      await until(() => Date.now() > (expOf(firstToken) + CLOCK_SKEW_S + 1) * 1000);
      const refused = await chatClient(server.url)
        .history({ room: ROOM }, { headers: { authorization: `Bearer ${firstToken}` } })
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect([refused?.code, refused?.rawMessage]).toEqual([
        Code.Unauthenticated,
        "token rejected: it has expired",
      ]);

      await send(alice, "still here after renewal");
      await send(bob, "me too");
      for (const page of [alice, bob]) {
        await page.waitForSelector("[data-seq='3']");
        expect(await rows(page)).toEqual([
          [1, "alice", "hello, signed in"],
          [2, "alice", "still here after renewal"],
          [3, "bob", "me too"],
        ]);
      }
      // Posts go on the Chat stream, whose token was checked when it opened; calls
      // started since (the room list's refreshes) carry the renewed token.
      const later = aliceCalls.filter((c) => c.method === "ListRooms").at(-1);
      expect(later?.token).toBeDefined();
      expect(later?.token).not.toBe(firstToken);
      // Renewed with the token in hand, more than once; the subscription never dropped.
      expect(
        aliceCalls.filter((c) => c.method === "Login" && c.token !== undefined).length,
      ).toBeGreaterThanOrEqual(2);
      expect(aliceCalls.filter((c) => c.method === "Chat").length).toBe(1);
      expect(
        await alice.evaluate(() => (window as unknown as { states: string[] }).states),
      ).toEqual([]);
      expect(await alice.$(".session-ended")).toBeNull();
    }, 120_000);

    it("keeps the name across a reload by renewing the kept token", async () => {
      await alice.reload();
      await connected(alice);
      expect(await alice.textContent("#identity .name")).toBe("alice");
      expect(await alice.$(".welcome")).toBeNull();
    });

    it("says the session expired when it cannot be renewed in time (offline), and offers to log in again", async () => {
      const page = await newPerson();
      await logIn(page, "dora");
      await connected(page);
      await page.context().setOffline(true);
      expect(await endedScreen(page)).toEqual([
        "Session expired",
        "The sign-in of dora expired: the server could not be reached to renew it.",
      ]);
      expect(await page.textContent("#identity")).toBe("");
      await page.context().setOffline(false);
      await page.click("text=Log in again");
      expect(await page.inputValue("#display-name")).toBe("dora");
    }, 60_000);

    it("logs in again by itself, as the same name, when a restart brings another secret", async () => {
      for (const context of contexts.splice(0)) await context.close();
      await stopServer();
      // The default lifetime: no renewal can race the refusal below.
      await startServer(["--auth", "guest", "--auth-secret-file", secretFile(SECRET_A)]);
      const page = await newPerson();
      await logIn(page, "erin");
      await connected(page);

      await stopServer();
      // Posted while the server is away: it waits, and goes out once the server is back,
      // though the new server refuses the page's token and its memory store's room has a new epoch.
      await send(page, "while away");
      await startServer(["--auth", "guest", "--auth-secret-file", secretFile(SECRET_B)]);
      await send(page, "back again");
      await page.waitForSelector("[data-seq='2']");
      expect(await rows(page)).toEqual([
        [1, "erin", "while away"],
        [2, "erin", "back again"],
      ]);
      expect(await page.$$eval(".message.pending, .message.failed", (els) => els.length)).toBe(0);
      expect(await page.textContent("#identity .name")).toBe("erin");
      expect(await page.$(".session-ended")).toBeNull();
    }, 60_000);

    it("with --auth jwt asks for a token from the operator once Login says so, and chats with one pasted in", async () => {
      await stopServer();
      await startServer(["--auth", "jwt", "--auth-secret-file", secretFile(SECRET_B)]);
      const page = await newPerson();
      // A first visit cannot know the mode without a call: it starts as a guest, as on a default server.
      await logIn(page, "frank");
      await page.waitForSelector(".token-card");
      expect(await page.textContent(".token-card h2")).toBe("A token is needed");
      await page.fill("#token", "not-a-token");
      await page.click("text=Use this token");
      expect(await page.textContent(".token-card .field-error")).toBe(
        'That is not a token: a JWT with a "sub" claim is needed.',
      );
      await page.fill("#token", await hsToken(SECRET_B, { sub: "frank" }));
      await page.click("text=Use this token");
      await connected(page);
      expect(await page.textContent("#identity .name")).toBe("frank");
      await send(page, "via the operator's token");
      await page.waitForSelector("[data-seq='1']");
      expect(await rows(page)).toEqual([[1, "frank", "via the operator's token"]]);
      // The page remembers: a reload goes straight to the token it holds.
      await page.reload();
      await connected(page);
      expect(await page.textContent("#identity .name")).toBe("frank");
    }, 60_000);
  },
);
