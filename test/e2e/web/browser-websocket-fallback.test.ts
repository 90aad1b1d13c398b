import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import {
  startUpgradeBlockingProxy,
  type UpgradeBlockingProxy,
} from "../../helpers/upgrade-blocking-proxy.js";
import {
  messageRows,
  type NetworkLog,
  pasteIntoComposer,
  signIn,
  startWebRig,
  type WebRig,
  watchNetwork,
} from "../../helpers/web-page.js";

// Issue 18 point 4's fallback: between the page and the server sits a proxy
// that passes plain HTTP and refuses every WebSocket upgrade (403). The page
// tries the socket, finds that /healthz answers while the socket still does
// not open on a second try, and carries on over fetch (Subscribe and Send,
// one Send per pasted line), talking with a page that is on the WebSocket.

const CHROMIUM = chromiumPath();
const REQUIRED = process.env.CI === "true";
if (!CHROMIUM && !REQUIRED) {
  console.warn(`test/e2e/web/browser-websocket-fallback.test.ts ${CHROMIUM_MISSING}`);
}

describe.skipIf(!CHROMIUM && !REQUIRED)(
  `the web app where WebSockets are blocked${CHROMIUM || REQUIRED ? "" : ` (${CHROMIUM_MISSING})`}`,
  () => {
    let rig: WebRig;
    let proxy: UpgradeBlockingProxy;
    let dee: Page;
    let deeNet: NetworkLog;
    let eve: Page;

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error(`CI=true and ${CHROMIUM_MISSING}`);
      rig = await startWebRig("browser-websocket-fallback");
      proxy = await startUpgradeBlockingProxy(rig.server.url);
      const context = await rig.browser.newContext({ viewport: { width: 1100, height: 700 } });
      dee = await context.newPage();
      deeNet = watchNetwork(dee);
      await dee.goto(`${proxy.url}/#porch`);
      await dee.fill("#display-name", "dee");
      await dee.click("text=Start chatting");
      await dee.waitForSelector(".status[data-state=connected]");
      eve = await signIn(rig.browser, `${rig.server.url}/#porch`, "eve");
    }, 90_000);

    afterAll(async () => {
      await proxy?.close();
      await rig?.close();
    });

    it("falls back to fetch after the socket fails twice while HTTP answers, and says so", async () => {
      await dee.waitForSelector(".status[data-way=http]");
      expect(await dee.textContent(".status")).toBe("Connected· over HTTP (no WebSocket)");
      expect(proxy.refused).toBe(2);
      expect(deeNet.sockets.map((s) => [new URL(s.url).pathname, s.closed])).toEqual([
        ["/ws", true],
        ["/ws", true],
      ]);
      expect(deeNet.requests.filter((r) => r.path === "/healthz")).toHaveLength(1);
      // The room streams over fetch (a Subscribe that stays open), and so does dee's feed.
      const open = deeNet.requests.filter((r) => !r.finished).map((r) => r.path);
      expect(open.sort()).toEqual(["/chat.v1.ChatService/Feed", "/chat.v1.ChatService/Subscribe"]);
    });

    it("talks with a page on the WebSocket, both ways, every message once", async () => {
      await dee.fill(".composer textarea", "hello from behind the proxy");
      await dee.press(".composer textarea", "Enter");
      await eve.waitForSelector("[data-seq='1']");
      await eve.fill(".composer textarea", "hello from the socket");
      await eve.press(".composer textarea", "Enter");
      const expected = [
        [1, "dee", "hello from behind the proxy"],
        [2, "eve", "hello from the socket"],
      ];
      for (const page of [dee, eve]) {
        await page.waitForSelector("[data-seq='2']");
        expect(await messageRows(page)).toEqual(expected);
      }
      const sends = deeNet.requests.filter((r) => r.path === "/chat.v1.ChatService/Send");
      expect(sends).toHaveLength(1);
    });

    it("posts pasted lines with one Send each and shows the same kind of summary", async () => {
      await pasteIntoComposer(dee, "one\ntwo\nthree");
      await dee.click("text=Send as 3 messages");
      const summary = "Pasted 3 lines: 3 messages stored, #3–#5, with 3 Send calls.";
      await dee.waitForSelector(`.notice:text-is("${summary}")`);
      await eve.waitForSelector("[data-seq='5']");
      expect((await messageRows(eve)).slice(2)).toEqual([
        [3, "dee", "one"],
        [4, "dee", "two"],
        [5, "dee", "three"],
      ]);
      // No more upgrades were tried: the decision holds for the page's life.
      expect(proxy.refused).toBe(2);
    });

    it("paces a paste longer than the send limit allows (100 lines: 10 s at 10/s), one Send each: every line stored once, in order", async () => {
      const lines = Array.from({ length: 100 }, (_, i) => `line ${i + 1} of 100`);
      await pasteIntoComposer(dee, lines.join("\n"));
      await dee.click("text=Send as 100 messages");
      const done = dee.locator(".notice", { hasText: "Pasted 100 lines: 100 messages stored" });
      expect(await done.textContent({ timeout: 30_000 })).toMatch(
        /^Pasted 100 lines: 100 messages stored, #6–#105, with 100 Send calls \(paced by your send limit: \d+\.\d s of waiting\)\.$/,
      );
      await eve.waitForSelector("[data-seq='105']");
      expect((await messageRows(eve)).slice(5)).toEqual(
        lines.map((text, i) => [i + 6, "dee", text]),
      );
    }, 60_000);
  },
);
