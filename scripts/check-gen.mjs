// Fails when gen/ differs from what `buf generate` writes now: generated code
// is never edited by hand, and a stale gen/ means the contract and the code
// disagree. Generates into a temporary folder and compares file by file.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const out = mkdtempSync(join(tmpdir(), "parley-gen-"));
try {
  execFileSync("buf", ["generate", "--output", out], { stdio: "inherit" });
  const list = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? list(path) : [path];
    });
  const fresh = new Map(list(join(out, "gen")).map((p) => [relative(join(out, "gen"), p), p]));
  const committed = new Map(list("gen").map((p) => [relative("gen", p), p]));
  const problems = [];
  for (const [name, path] of fresh) {
    const mine = committed.get(name);
    if (!mine) problems.push(`missing: gen/${name}`);
    else if (!readFileSync(mine).equals(readFileSync(path))) problems.push(`stale: gen/${name}`);
  }
  const extra = [...committed.keys()].filter((name) => !fresh.has(name)).map((n) => `gen/${n}`);
  if (problems.length > 0) {
    console.error(
      `gen/ does not match buf generate; run npm run generate and commit:\n  ${problems.join("\n  ")}`,
    );
  }
  if (extra.length > 0) {
    // Another language's code generated into gen/ (issue 14): npm run generate
    // would delete it (buf.gen.yaml cleans gen/), so say where it belongs.
    console.error(
      `gen/ holds files buf generate does not write here:\n  ${extra.join("\n  ")}\n` +
        "gen/ is this repository's TypeScript only. If these are another language's code, " +
        "generate it into a folder outside gen/ (docs/clients.md, Other languages, shows how) " +
        "and remove them from gen/; if they are stale, npm run generate deletes them.",
    );
  }
  if (problems.length > 0 || extra.length > 0) process.exit(1);
  console.log(`gen/ matches buf generate (${fresh.size} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
