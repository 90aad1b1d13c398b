import { mkdtempSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../../../scripts/build-cli.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { type CliRun, runCli } from "../../helpers/run-cli.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { startTestServer } from "../../helpers/test-server.js";

// The `parley` command as npm run build bundles it (scripts/build-cli.ts,
// package.json's "bin") must behave as the sources do: the same help, the
// same output and exit codes for client commands, the same errors, and a
// `serve` that runs the server. Each check runs the bundle and the source
// CLI side by side.

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

describe("the bundled parley command", () => {
  // Inside the checkout, so the packages it leaves out resolve from node_modules as in dist/cli.
  const outDir = mkdtempSync(join(ROOT, "node_modules", ".parley-cli-bundle-"));
  const bundle = [join(outDir, "parley.js")];
  let server: ParleyServer;
  let url: string;
  beforeAll(async () => {
    await buildCli(outDir);
    server = await startTestServer();
    url = server.url;
  }, 60_000);
  afterAll(async () => {
    await server.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  /** The same command through the bundle and through the sources. */
  async function both(args: string[], input = ""): Promise<[CliRun, CliRun]> {
    return [await runCli(args, input, {}, bundle), await runCli(args, input)];
  }

  it("prints the same help for the program and for a command", async () => {
    for (const args of [["--help"], ["send", "--help"], ["serve", "--help"]]) {
      const [bundled, source] = await both(args);
      expect(bundled, args.join(" ")).toEqual(source);
      expect(bundled.code).toBe(0);
    }
  });

  it("sends, and both read the same history and room list", async () => {
    const sent = await runCli(
      ["--url", url, "send", "bundled", "from the bundle", "--json"],
      "",
      {},
      bundle,
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({
      seq: "1",
      author: "tester",
      text: "from the bundle",
    });
    for (const args of [
      ["--url", url, "history", "bundled", "--json"],
      ["--url", url, "rooms"],
    ]) {
      const [bundled, source] = await both(args);
      expect(bundled, args.join(" ")).toEqual(source);
      expect(bundled.code).toBe(0);
    }
  });

  it("fails the same way: the RPC's code and message, exit 1", async () => {
    const [bundled, source] = await both(["--url", url, "send", "Not A Room", "x"]);
    expect(bundled).toEqual(source);
    expect(bundled.code).toBe(1);
    expect(bundled.stderr).toContain("invalid_argument");
  });

  it("runs the server with serve", async () => {
    let served: SpawnedServer | undefined;
    try {
      served = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--store", "memory:"], {}, [
        relative(ROOT, join(outDir, "parley.js")),
        "serve",
      ]);
      const sent = await runCli(["--url", served.url, "send", "lobby", "hi"], "", {}, bundle);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toMatch(/#1 tester: hi\n$/);
    } finally {
      served?.process.kill("SIGTERM");
      await served?.exited;
    }
  }, 30_000);
});
