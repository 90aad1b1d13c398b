import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, CHROMIUM_MISSING, chromiumPath } from "../../helpers/chromium.js";

// Issue 14 point 9: the browser tests looked only for `chromium` on PATH.
// They also take CHROME_PATH or PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, and say so.

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "parley-chromium-path-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file standing for a browser (chromiumPath checks only that it is there). */
function file(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, "");
  return path;
}

/** An environment with no chromium on PATH. */
const noPath = { PATH: join(dir, "empty-bin") };

describe("which Chromium the browser tests drive", () => {
  it("CHROME_PATH, then PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, then chromium on PATH, else none", () => {
    const chrome = file("chrome");
    const playwright = file("playwright-chromium");
    expect(chromiumPath({ ...noPath, CHROME_PATH: chrome })).toBe(chrome);
    expect(chromiumPath({ ...noPath, PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: playwright })).toBe(
      playwright,
    );
    expect(
      chromiumPath({
        ...noPath,
        CHROME_PATH: chrome,
        PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: playwright,
      }),
    ).toBe(chrome);
    expect(chromiumPath({ ...noPath, CHROME_PATH: "" })).toBeUndefined();
    expect(chromiumPath(noPath)).toBeUndefined();
  });

  it("a variable naming no file is an error naming it, not a silent fallback", () => {
    expect(() => chromiumPath({ CHROME_PATH: join(dir, "nope") })).toThrow(
      `CHROME_PATH=${join(dir, "nope")}: no such file (unset it to use chromium on PATH)`,
    );
  });

  const real = chromiumPath();
  it.skipIf(!real)(
    `a browser found only through CHROME_PATH is launched${real ? "" : ` (${CHROMIUM_MISSING})`}`,
    async () => {
      const link = join(dir, "my-chrome");
      symlinkSync(real ?? "", link);
      const path = chromiumPath({ ...noPath, CHROME_PATH: link });
      expect(path).toBe(link);
      const browser = await chromium.launch({ executablePath: path, args: CHROMIUM_ARGS });
      try {
        expect(browser.version()).toMatch(/^\d+\./);
      } finally {
        await browser.close();
      }
    },
  );

  it("every test that launches Chromium finds it with chromiumPath, and docs/testing.md says how", () => {
    const e2e = join(ROOT, "test", "e2e");
    const launching = readdirSync(e2e, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith("browser-path.test.ts")) // this file names what it looks for
      .filter((f) => readFileSync(join(e2e, f), "utf8").includes("chromium.launch("));
    expect(launching).toContain(join("web", "browser.test.ts"));
    for (const name of launching) {
      const source = readFileSync(join(e2e, name), "utf8");
      expect(source, name).toContain("= chromiumPath()");
      expect(source, name).not.toContain('"which"');
    }
    const testing = readFileSync(join(ROOT, "docs", "testing.md"), "utf8").replace(/\s+/g, " ");
    expect(testing).toContain(
      "`CHROME_PATH` or `PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH` names the Chromium to drive",
    );
  });
});
