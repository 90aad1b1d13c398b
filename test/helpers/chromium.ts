import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The variables that name a Chromium to drive, first one set wins. */
export const CHROMIUM_VARIABLES = ["CHROME_PATH", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"] as const;

/** What a browser test says when it skips for want of a browser. */
export const CHROMIUM_MISSING =
  "skipped: no chromium (apt-get install chromium, or set CHROME_PATH / PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH)";

/**
 * The Chromium to drive: CHROME_PATH or PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH
 * when set, else Debian's `chromium` on PATH; undefined when none. A
 * variable naming no file is an error that says so (a typo must not fall
 * back to another browser, or skip, in silence). Never a browser downloaded
 * by Playwright.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const name of CHROMIUM_VARIABLES) {
    const path = env[name];
    if (path === undefined || path === "") continue;
    if (!existsSync(path))
      throw new Error(`${name}=${path}: no such file (unset it to use chromium on PATH)`);
    return path;
  }
  const which = spawnSync("which", ["chromium"], { encoding: "utf8", env });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

/** Headless flags for a browser in a container and in CI, quiet on the network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];
