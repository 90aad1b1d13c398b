import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./spawn-process.js";

/** Inside the repo (and git-ignored), so the build's imports find node_modules. */
export const OUT_DIR = "bench/results/tmp/parley-build";

let built: string | undefined;

/**
 * Compile Parley with tsc, as `npm run build` does for `npm start`, once per
 * process, and return the entry to run with plain node. The suite measures
 * what users run: from source under tsx, esbuild's keepNames wraps every
 * named closure in `__name`, which cost about 1.6 KiB more per idle stream
 * (17.6 against 16.0 KiB, `--only idle-scale`) and a call per closure made.
 */
export function parleyEntry(): string {
  if (built === undefined) {
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        OUT_DIR,
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    if (tsc.status !== 0) {
      throw new Error(`building Parley for the bench failed:\n${tsc.stdout}${tsc.stderr}`);
    }
    built = join(OUT_DIR, "src/main.js");
  }
  return built;
}
