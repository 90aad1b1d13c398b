import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";
import { freePort } from "../../helpers/free-port.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";

// Issue 14 point 2: the client as a package another project installs, and
// the README's snippets for Node and for a browser bundler run as written.
// The test does what the README says, in a temporary project: npm run
// pack:client in this checkout, npm install of the tarball (and of esbuild),
// node hello.mjs, esbuild's serve and the page in Chromium. What it changes
// in the README's text: the server URL (http://localhost:8080 becomes the
// test server's), the checkout's path (/path/to/parley) and esbuild's port
// (whichever it picked); each is checked to occur where expected. npm runs
// with --prefer-offline --no-audit --no-fund, which change only speed and noise.

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const NPM_QUIET = ["--prefer-offline", "--no-audit", "--no-fund"];
const TARBALL = "parley-client-0.1.0.tgz";

const CHROMIUM = chromiumPath();
const REQUIRED = process.env.CI === "true";
const NO_BROWSER = CHROMIUM_MISSING;
if (!CHROMIUM && !REQUIRED)
  console.warn(`test/e2e/client/client-package.test.ts: page test ${NO_BROWSER}`);

/** The README's fenced block whose first line is `first` (its file name), exactly as written. */
function snippet(first: string): string {
  const blocks = [...README.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
  const found = blocks.filter((b) => b.split("\n", 1)[0] === first);
  expect(found, `one README block starting with ${first}`).toHaveLength(1);
  return found[0] ?? "";
}

/** The README's shell command lines (comments after # dropped), in order. */
function readmeCommands(): string[] {
  const blocks = [...README.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
  return blocks.flatMap((b) =>
    b
      .split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== ""),
  );
}

/** `text` with `from` replaced by `to`, where `from` must occur exactly `times` times. */
function replaceExactly(text: string, from: string, to: string, times: number): string {
  expect(text.split(from).length - 1, `"${from}" in the snippet`).toBe(times);
  return text.replaceAll(from, to);
}

async function run(cwd: string, command: string, args: string[]) {
  return exec(command, args, { cwd, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
}

describe("@parley/client, packed and installed into another project", () => {
  let dir: string;
  let project: string;
  let server: SpawnedServer;
  let esbuild: ChildProcess | undefined;
  let pageOrigin: string;
  let tarballFiles: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-client-package-"));
    project = join(dir, "my-app");
    mkdirSync(join(project, "www"), { recursive: true });

    // The README's commands, as written, are the ones this test runs.
    const commands = readmeCommands();
    for (const line of [
      "npm run pack:client",
      "npm install /path/to/parley/parley-client-0.1.0.tgz",
      "node hello.mjs",
      "npm install --save-dev esbuild",
      "npx esbuild app.ts --bundle --format=esm --outdir=www --servedir=www",
      "npm start -- --cors-origin http://localhost:8000",
    ]) {
      expect(commands, "a command the README gives").toContain(line);
    }

    const packed = await run(ROOT, "npm", ["run", "pack:client"]);
    expect(packed.stdout.trim().split("\n").at(-1)).toBe(TARBALL);
    const tarball = join(dir, TARBALL);
    copyFileSync(join(ROOT, TARBALL), tarball);
    tarballFiles = (await run(dir, "tar", ["-tzf", tarball])).stdout.trim().split("\n");

    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "my-app", private: true }),
    );
    await run(project, "npm", ["install", tarball, ...NPM_QUIET]);
    await run(project, "npm", ["install", "--save-dev", "esbuild", ...NPM_QUIET]);

    // The server: as `npm start` runs it (guest logins), on a free port, with
    // the page's origin allowed. esbuild picks its port first (it prints it).
    const port = await freePort();
    const parleyUrl = `http://localhost:${port}`;
    await writeFile(
      join(project, "hello.mjs"),
      replaceExactly(snippet("// hello.mjs"), "http://localhost:8080", parleyUrl, 1),
    );
    await writeFile(
      join(project, "app.ts"),
      replaceExactly(snippet("// app.ts"), "http://localhost:8080", parleyUrl, 1),
    );
    await writeFile(join(project, "www", "index.html"), snippet("<!-- www/index.html -->"));
    esbuild = spawn(
      "npx",
      ["esbuild", "app.ts", "--bundle", "--format=esm", "--outdir=www", "--servedir=www"],
      // esbuild serves while its stdin stays open, and stops when it closes.
      { cwd: project, stdio: ["pipe", "pipe", "pipe"] },
    );
    const esbuildPort = await new Promise<string>((resolvePort, reject) => {
      let said = "";
      const timer = setTimeout(() => reject(new Error(`esbuild did not serve:\n${said}`)), 60_000);
      const listen = (chunk: Buffer) => {
        said += chunk.toString();
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(said);
        if (m?.[1]) {
          clearTimeout(timer);
          resolvePort(m[1]);
        }
      };
      esbuild?.stdout?.on("data", listen);
      esbuild?.stderr?.on("data", listen);
      esbuild?.once("exit", (code) => reject(new Error(`esbuild exited ${code}:\n${said}`)));
    });
    pageOrigin = `http://localhost:${esbuildPort}`;
    server = await spawnServer([
      ...["--port", String(port), "--store", "memory:", "--auth", "guest"],
      ...["--cors-origin", pageOrigin],
    ]);
  }, 300_000);

  afterAll(async () => {
    esbuild?.stdin?.end();
    if (server && server.process.exitCode === null) server.process.kill("SIGKILL");
    await server?.exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("holds the client, the chat contract's code and the WebSocket frame codec only, with types, and depends on connect, protobuf and ws only", async () => {
    const modules = readdirSync(join(ROOT, "src", "client"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => f.slice(0, -3));
    expect([...tarballFiles].sort()).toEqual(
      [
        "package/package.json",
        "package/README.md",
        "package/dist/gen/chat/v1/chat_pb.js",
        "package/dist/gen/chat/v1/chat_pb.d.ts",
        // The WebSocket transport's frames, shared with the server (docs/protocols.md#websocket).
        "package/dist/src/wire/ws-frames.js",
        "package/dist/src/wire/ws-frames.d.ts",
        ...modules.flatMap((m) => [
          `package/dist/src/client/${m}.js`,
          `package/dist/src/client/${m}.d.ts`,
        ]),
      ].sort(),
    );
    const installed = join(project, "node_modules", "@parley", "client");
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      "@bufbuild/protobuf",
      "@connectrpc/connect",
      "@connectrpc/connect-node",
      "@connectrpc/connect-web",
      "ws",
    ]);
    // Every import of every module: inside the package, or a dependency (no server code, no Node built-in).
    for (const file of tarballFiles.filter((f) => f.endsWith(".js"))) {
      const path = join(installed, relative("package", file));
      const source = readFileSync(path, "utf8");
      for (const [, spec = ""] of source.matchAll(/(?:from|import)\s*"([^"]+)"/g)) {
        if (spec.startsWith(".")) {
          expect(
            relative(installed, resolve(dirname(path), spec)),
            `${file} imports ${spec}`,
          ).toMatch(
            /^dist\/(src\/client\/[\w-]+|gen\/chat\/v1\/chat_pb|src\/wire\/ws-frames)\.js$/,
          );
        } else if (spec.startsWith("node:")) {
          // Node built-ins only where the node entry alone reaches (the guest key file, and
          // node.ts, which loads ws only for the WebSocket transport); the browser bundle
          // test below shows none reaches a browser.
          expect(
            ["package/dist/src/client/guest-key-file.js", "package/dist/src/client/node.js"],
            `${file} imports ${spec}`,
          ).toContain(file);
        } else {
          const name = spec.split("/").slice(0, 2).join("/");
          expect(Object.keys(manifest.dependencies), `${file} imports ${spec}`).toContain(name);
        }
      }
    }
  });

  it("Node resolves the node entry and the README's hello.mjs prints its message back", async () => {
    const resolved = await run(project, process.execPath, [
      "--input-type=module",
      "-e",
      'console.log(import.meta.resolve("@parley/client"))',
    ]);
    expect(resolved.stdout.trim()).toBe(
      `file://${project}/node_modules/@parley/client/dist/src/client/index.js`,
    );
    // Run twice, as a user reruns it: the second run is ann again (by the
    // guest key the first one kept), while the first run's token still holds the name.
    const runs = [
      await run(project, process.execPath, ["hello.mjs"]),
      await run(project, process.execPath, ["hello.mjs"]),
    ];
    const history = await chatClient(server.url, "connect-h1").history(
      { room: "lobby", limit: 100 },
      { headers: { authorization: `Bearer ${await guestToken("reader")}` } },
    );
    const mine = history.messages.filter((m) => m.text === "hello from Node");
    expect(mine.map((m) => m.author)).toEqual(["ann", "ann"]);
    runs.forEach((hello, i) => {
      const seq = mine[i]?.seq;
      expect(hello.stdout).toBe(`stored as #${seq}\n#${seq} ann: hello from Node\n`);
      expect(hello.stderr).toBe("");
    });
    // The key is in the user's state folder, readable by the user only.
    const keyFile = join(process.env.XDG_STATE_HOME ?? "", "parley", "guest-keys.json");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(readFileSync(keyFile, "utf8")))).toContain(`${server.url} ann`);
  });

  it("TypeScript finds the types: node entry under nodenext, browser entry under a bundler's resolution", async () => {
    await writeFile(
      join(project, "tsconfig.node.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          allowJs: true,
          checkJs: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["hello.mjs"],
      }),
    );
    await writeFile(
      join(project, "tsconfig.web.json"),
      JSON.stringify({
        compilerOptions: {
          module: "esnext",
          moduleResolution: "bundler",
          target: "es2022",
          lib: ["es2022", "dom"],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["app.ts"],
      }),
    );
    const resolvedTo = async (config: string) => {
      const trace = await run(project, process.execPath, [TSC, "-p", config, "--traceResolution"]);
      return /'@parley\/client' was successfully resolved to '([^']+)'/.exec(trace.stdout)?.[1];
    };
    expect(await resolvedTo("tsconfig.node.json")).toBe(
      join(project, "node_modules/@parley/client/dist/src/client/index.d.ts"),
    );
    expect(await resolvedTo("tsconfig.web.json")).toBe(
      join(project, "node_modules/@parley/client/dist/src/client/browser.d.ts"),
    );
    // The types are real ones: a number for a seq is refused.
    await writeFile(
      join(project, "wrong.ts"),
      'import { createParleyClient } from "@parley/client";\n' +
        'createParleyClient({ baseUrl: "http://x" }).subscribe("lobby", { sinceSeq: 1 });\n',
    );
    const wrong = await run(project, process.execPath, [
      TSC,
      "--noEmit",
      "--strict",
      "--module",
      "esnext",
      "--moduleResolution",
      "bundler",
      "--skipLibCheck",
      "wrong.ts",
    ]).then(
      () => "compiled",
      (e: { stdout: string }) => e.stdout,
    );
    expect(wrong).toContain(
      "wrong.ts(2,66): error TS2322: Type 'number' is not assignable to type 'bigint'.",
    );
  });

  it("a browser bundle takes the browser entry and nothing of Node's", async () => {
    await run(project, "npx", [
      "esbuild",
      "app.ts",
      "--bundle",
      "--format=esm",
      "--outdir=out",
      "--metafile=meta.json",
    ]);
    const meta = JSON.parse(readFileSync(join(project, "meta.json"), "utf8")) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    const ours = inputs.filter((p) => p.startsWith("node_modules/@parley/client/"));
    expect(ours).toContain("node_modules/@parley/client/dist/src/client/browser.js");
    expect(ours).toContain("node_modules/@parley/client/dist/src/client/web.js");
    expect(ours).not.toContain("node_modules/@parley/client/dist/src/client/index.js");
    expect(ours).not.toContain("node_modules/@parley/client/dist/src/client/node.js");
    expect(inputs.filter((p) => p.includes("connect-node") || p.startsWith("node:"))).toEqual([]);
  });

  it.skipIf(!CHROMIUM && !REQUIRED)(
    `the README's page, served by esbuild, shows its message back${CHROMIUM || REQUIRED ? "" : ` (${NO_BROWSER})`}`,
    async () => {
      if (!CHROMIUM) throw new Error("CI=true and no chromium: .ci/run should install it");
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        const said: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => said.push(`${m.type()}: ${m.text()}`));
        await page.goto(`${pageOrigin}/`);
        const item = page.locator("#log li", { hasText: "hello from the browser" });
        await item.waitFor({ timeout: 30_000 }).catch((e: unknown) => {
          throw new Error(
            `${String(e)}\npage errors: ${errors.join("; ")}\nconsole: ${said.join("\n")}`,
          );
        });
        const history = await chatClient(server.url, "connect-h1").history(
          { room: "lobby", limit: 100 },
          { headers: { authorization: `Bearer ${await guestToken("reader2")}` } },
        );
        const mine = history.messages.filter((m) => m.text === "hello from the browser");
        expect(mine.map((m) => m.author)).toEqual(["web"]);
        expect(await item.textContent()).toBe(`#${mine[0]?.seq} web: hello from the browser`);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  /** A guest token for the test's own reads. */
  async function guestToken(name: string): Promise<string> {
    return (await chatClient(server.url, "connect-h1").login({ name })).token;
  }
});
