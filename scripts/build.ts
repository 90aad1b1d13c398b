import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withBuildLock } from "./build/build-lock.js";
import { fingerprint } from "./build/fingerprint.js";
import { installTree, installWeb } from "./build/install-build.js";
import { buildCli } from "./build-cli.js";
import { buildWeb } from "./build-web.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const STAMP = join(DIST, ".build-stamp");

/**
 * `npm run build` (and `npm start` before it starts): compile the server
 * into dist/, bundle the `parley` command into dist/cli and the web app
 * into dist/web, only when the sources differ from
 * the last build's (`--force` builds anyway). Everything is built in a
 * temporary folder first and moved in file by file, index.html last, so a
 * server already running from this checkout keeps serving complete files,
 * and two builds at once take turns.
 */
async function build(force: boolean): Promise<void> {
  await withBuildLock(join(DIST, ".build.lock"), async () => {
    const inputs = await fingerprint(ROOT);
    if (!force && (await upToDate(inputs))) {
      console.log("build: dist/ is up to date with the sources");
      return;
    }
    // Holding the lock, no other build runs: any temporary folder left is
    // from a build that was killed.
    for (const name of await readdir(DIST)) {
      if (name.startsWith(".tmp-build-")) {
        await rm(join(DIST, name), { recursive: true, force: true });
      }
    }
    const tmp = join(DIST, `.tmp-build-${process.pid}`);
    try {
      compile(tmp);
      const files = await buildWeb(join(tmp, "web"));
      await buildCli(join(tmp, "cli"));
      for (const dir of ["src", "gen", "cli"]) await installTree(join(tmp, dir), join(DIST, dir));
      await installWeb(join(tmp, "web"), join(DIST, "web"));
      await writeFile(`${STAMP}.tmp`, inputs);
      await rename(`${STAMP}.tmp`, STAMP);
      console.log(`build: server in dist/src, web app: ${files.join(", ")}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

async function upToDate(inputs: string): Promise<boolean> {
  if (
    !existsSync(join(DIST, "src", "main.js")) ||
    !existsSync(join(DIST, "cli", "parley.js")) ||
    !existsSync(join(DIST, "web", "index.html"))
  ) {
    return false;
  }
  try {
    return (await readFile(STAMP, "utf8")) === inputs;
  } catch {
    return false;
  }
}

/** tsc into `outDir`; throws with tsc's output when it fails (nothing is installed then). */
function compile(outDir: string): void {
  const tsc = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      outDir,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (tsc.status !== 0) throw new Error(`build: tsc failed\n${tsc.stdout}${tsc.stderr}`);
}

await mkdir(DIST, { recursive: true });
await build(process.argv.includes("--force"));
