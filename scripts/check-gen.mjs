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
  for (const name of committed.keys()) if (!fresh.has(name)) problems.push(`extra: gen/${name}`);
  if (problems.length > 0) {
    console.error(
      `gen/ does not match buf generate; run npm run generate and commit:\n  ${problems.join("\n  ")}`,
    );
    process.exit(1);
  }
  console.log(`gen/ matches buf generate (${fresh.size} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
