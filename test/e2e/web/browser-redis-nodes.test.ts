import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../../../scripts/build-web.js";
import { createParleyClient } from "../../../src/client/index.js";
import { expectHealed, openChatPage, type Row } from "../../helpers/browser-chat-page.js";
import { CHROMIUM_ARGS, CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import { type FailoverProxy, startFailoverProxy } from "../../helpers/failover-proxy.js";
import { freePort } from "../../helpers/free-port.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { startSteadySender } from "../../helpers/steady-sender.js";
import { secretFile } from "../../helpers/tokens.js";

// Issue 18's must-show, on two nodes: two Parley processes on one Redis, run
// as scripts/redis-nodes.sh runs them (guest sign-in, one shared
// --auth-secret-file, 127.0.0.1), behind one address: a TCP proxy that gives
// each new connection to the first node that accepts it, as a load balancer
// with failover would. Two pages load the web app through it (so they are on
// the first node), that node is killed with SIGKILL while a client keeps
// sending on the other, and the pages heal on the survivor: no reload, every
// acknowledged message once, in seq order. Only what the page shows is read.
// Needs redis-server (this file starts its own on a free port, never the
// shared 6379) and Chromium.

const CHROMIUM = chromiumPath();
const REQUIRED = process.env.CI === "true";
if (!CHROMIUM && !REQUIRED)
  console.warn(`test/e2e/web/browser-redis-nodes.test.ts ${CHROMIUM_MISSING}`);
const REDIS = redisTestsCanRun("the web app on two Parley nodes on one Redis");

const ROOM = "failover-page";
const SECRET = "browser-redis-nodes-secret-0123456789abcdef";

describe.runIf((CHROMIUM || REQUIRED) && REDIS)(
  "the web app on two nodes behind one address, the page's node killed with -9",
  () => {
    let dir: string;
    let redis: TestRedis;
    let ports: number[];
    let nodes: SpawnedServer[] = [];
    let proxy: FailoverProxy;
    let browser: Browser;

    beforeAll(async () => {
      if (!CHROMIUM) throw new Error("CI=true and no chromium: .ci/run should install it");
      dir = mkdtempSync(join(tmpdir(), "parley-browser-nodes-"));
      await buildWeb(join(dir, "web"));
      redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always"]);
      const secret = secretFile(SECRET);
      ports = [await freePort(), await freePort()];
      nodes = await Promise.all(
        ports.map((port, i) => {
          const cwd = join(dir, `node${i}`);
          mkdirSync(cwd);
          return spawnServer(
            [
              ...["--port", String(port), "--host", "127.0.0.1", "--store", redis.url],
              ...["--auth-secret-file", secret, "--web-dir", join(dir, "web")],
            ],
            {},
            undefined,
            { cwd, defaults: true },
          );
        }),
      );
      proxy = await startFailoverProxy(ports);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await proxy?.close();
      for (const n of nodes) {
        if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL");
        await n.exited;
      }
      await redis?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("heals both pages on the surviving node without reload, every acknowledged message once in seq order, while a client sends there", async () => {
      const [first, second] = ports as [number, number];
      const ann = await openChatPage(browser, proxy.url, ROOM, "ann");
      const bob = await openChatPage(browser, proxy.url, ROOM, "bob");
      await ann.send("on the first node");
      await bob.waitForRows(1, 1);
      // Every connection the pages made went to the first node, and some are open there.
      expect(new Set(proxy.routed)).toEqual(new Set([first]));
      expect(proxy.open(first)).toBeGreaterThan(0);

      const carol = createParleyClient({
        baseUrl: (nodes[1] as SpawnedServer).url,
        guest: "carol",
        guestKeys: false,
        backoff: { initialDelayMs: 100, maxDelayMs: 1000 },
        sendAttempts: 100,
      });
      const sender = startSteadySender(carol, ROOM, "carol", "carol says");
      await sender.untilAcked(10);
      const routedBefore = proxy.routed.length;
      (nodes[0] as SpawnedServer).process.kill("SIGKILL");
      expect(await (nodes[0] as SpawnedServer).exited).toBe("SIGKILL");
      // Typed as the node dies: the page sends it once it has found the other node.
      await ann.send("as the first node died");
      await sender.untilAcked(sender.acked.length + 10);
      await sender.stop();
      await bob.send("on the second node");
      await Promise.all([ann, bob].map((p) => p.untilSent()));

      // What Redis holds: 1..N, each text once, every acknowledged seq where acknowledged.
      const history = await carol.rpc.history({ room: ROOM, limit: 500 });
      const expected = history.messages.map((m): Row => [Number(m.seq), m.author, m.text]);
      expect(expected.map((r) => r[0])).toEqual(expected.map((_, i) => i + 1));
      expect(expected.map((r) => r[2]).sort()).toEqual(
        [
          "on the first node",
          "as the first node died",
          "on the second node",
          ...sender.acked.map((a) => a.text),
        ].sort(),
      );
      for (const { seq, text } of sender.acked) expect(expected[seq - 1]?.[2]).toBe(text);

      for (const p of [ann, bob]) await expectHealed(p, expected);
      // The pages moved: every connection since the kill went to the second node.
      const since = proxy.routed.slice(routedBefore);
      expect(since.length).toBeGreaterThan(0);
      expect(new Set(since)).toEqual(new Set([second]));
      expect(proxy.open(first)).toBe(0);
      expect(proxy.open(second)).toBeGreaterThan(0);
      carol.guest?.stop();
    }, 120_000);
  },
);
