import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

/** What a build is made from, relative to the package root. */
export const BUILD_INPUTS = [
  "src",
  "gen",
  "web",
  "scripts/build.ts",
  "scripts/build",
  "scripts/build-web.ts",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "package-lock.json",
];

/**
 * A hash of every input file's path and content. Content, not modification
 * times: a checkout or a copy changes times without changing what a build
 * would produce, and an edit within the same second as a build does not.
 */
export async function fingerprint(root: string, inputs: string[] = BUILD_INPUTS): Promise<string> {
  const hash = createHash("sha256");
  const files: string[] = [];
  for (const input of inputs) files.push(...(await filesUnder(join(root, input))));
  for (const file of files.sort()) {
    hash.update(relative(root, file));
    hash.update("\0");
    hash.update(await readFile(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Every file at or under `path` (none if it does not exist). */
async function filesUnder(path: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") return [path];
    if (code === "ENOENT") return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(child)));
    else if (entry.isFile()) out.push(child);
  }
  return out;
}
