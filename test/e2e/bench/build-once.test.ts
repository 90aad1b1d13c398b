import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const COPIED = [
  "src",
  "gen",
  "web",
  "scripts",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "package-lock.json",
];

// A copy of the package (node_modules linked), so that changing its web
// sources and building it touch nothing of this checkout's dist/.
let project: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "parley-build-"));
  for (const name of COPIED) cpSync(join(ROOT, name), join(project, name), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(project, "node_modules"));
});

afterAll(() => {
  for (const child of started)
    if (child.exitCode === null) process.kill(-(child.pid ?? 0), "SIGKILL");
  rmSync(project, { recursive: true, force: true });
});

/** `npm start` in the copy on a free port; resolves with its URL once it listens. */
function npmStart(): Promise<string> {
  return npmStarted().then((s) => s.url);
}

/** `npm start` in the copy on a free port, once it listens: its URL, the npm process and what it printed. */
function npmStarted(): Promise<{ url: string; npm: ChildProcess; output: () => string }> {
  const child = spawn(
    "npm",
    ["start", "--", "--port", "0", "--host", "127.0.0.1", "--store", "memory:"],
    { cwd: project, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  started.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http[^"]+)".*"msg":"parley listening"/.exec(out);
      if (m?.[1]) resolve({ url: m[1], npm: child, output: () => out });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
  });
}

/** The asset paths an index.html links. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/"(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? "");
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

it("keeps a running server's page and assets whole while a second npm start rebuilds, and skips an unchanged build", async () => {
  const first = await npmStart();
  const page = await get(`${first}/`);
  expect(page.status).toBe(200);
  const oldAssets = assetsOf(page.body);
  expect(oldAssets.map((a) => a.replace(/-[A-Z0-9]+\./, "-HASH.")).sort()).toEqual([
    "/assets/main-HASH.css",
    "/assets/main-HASH.js",
  ]);
  const oldBodies = await Promise.all(oldAssets.map(async (a) => (await get(first + a)).body));

  // A source change, then a second server from the same folder: it rebuilds.
  const mainTs = join(project, "web", "src", "main.ts");
  writeFileSync(mainTs, `${readFileSync(mainTs, "utf8")}\nconsole.debug("second build");\n`);
  const second = npmStart();
  let secondUrl: string | undefined;
  second.then((url) => {
    secondUrl = url;
  });
  const seen = new Set<string>();
  while (secondUrl === undefined) {
    for (const [i, asset] of oldAssets.entries()) {
      const res = await get(first + asset);
      seen.add(`${asset} ${res.status} ${res.body === oldBodies[i] ? "same" : "changed"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect([...seen].sort()).toEqual(oldAssets.map((a) => `${a} 200 same`).sort());

  // The new page links new assets, served by both servers; the old ones stay.
  const newPage = await get(`${secondUrl}/`);
  const newAssets = assetsOf(newPage.body);
  expect(newAssets).not.toEqual(oldAssets);
  for (const asset of [...newAssets, ...oldAssets]) {
    expect((await get(first + asset)).status).toBe(200);
    expect((await get(secondUrl + asset)).status).toBe(200);
  }

  // Unchanged sources: no build at all.
  const index = join(project, "dist", "web", "index.html");
  const before = statSync(index).mtimeMs;
  const again = spawnSync("npm", ["run", "--silent", "build"], { cwd: project, encoding: "utf8" });
  expect(again.stdout).toBe("build: dist/ is up to date with the sources\n");
  expect(statSync(index).mtimeMs).toBe(before);
}, 180_000);

it("stops the server when npm start itself gets SIGTERM, as a process manager sends it", async () => {
  const { url, npm, output } = await npmStarted();
  const exited = new Promise((resolve) => npm.once("exit", resolve));
  npm.kill("SIGTERM"); // npm only, not its process group
  await exited;
  for (const deadline = Date.now() + 10_000; !output().includes('"msg":"parley stopped"'); ) {
    if (Date.now() > deadline) throw new Error(`no "parley stopped" after SIGTERM:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(output()).toContain('"signal":"SIGTERM","msg":"shutting down"');
  await expect(fetch(`${url}/`)).rejects.toThrow("fetch failed");
}, 180_000);
