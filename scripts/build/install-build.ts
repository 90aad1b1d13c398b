import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Move every file under `from` to the same place under `to`, each by one
 * rename (atomic: a reader sees the old file or the new one, never half of
 * one), then delete the files under `to` that the new build no longer has.
 */
export async function installTree(from: string, to: string): Promise<void> {
  const written = new Set<string>();
  await moveFiles(from, to, "", written);
  await removeOthers(to, "", written);
}

/**
 * Install a built web app (index.html and assets/) from `from` into `to`
 * without a moment where a page already served loses its files: the new
 * assets (content-hashed names) go in first, then index.html is renamed over
 * the old one. The assets of the index.html it replaces stay, so pages
 * served before this build keep working; older ones are deleted.
 */
export async function installWeb(from: string, to: string): Promise<void> {
  const previous = await referencedAssets(join(to, "index.html"));
  const current = await referencedAssets(join(from, "index.html"));
  await mkdir(join(to, "assets"), { recursive: true });
  for (const name of await readdir(join(from, "assets"))) {
    await rename(join(from, "assets", name), join(to, "assets", name));
  }
  await rename(join(from, "index.html"), join(to, "index.html"));
  const keep = [...previous, ...current];
  for (const name of await readdir(join(to, "assets"))) {
    // A source map is kept with its asset (main-X.js.map with main-X.js).
    if (!keep.some((asset) => name.startsWith(asset))) {
      await rm(join(to, "assets", name), { force: true });
    }
  }
}

/** The asset file names an index.html links (none if there is no index.html). */
async function referencedAssets(indexHtml: string): Promise<string[]> {
  let html: string;
  try {
    html = await readFile(indexHtml, "utf8");
  } catch {
    return [];
  }
  return [...html.matchAll(/\/assets\/([^"'?#\s]+)/g)].map((m) => m[1] ?? "");
}

async function moveFiles(from: string, to: string, rel: string, written: Set<string>) {
  await mkdir(join(to, rel), { recursive: true });
  for (const entry of await readdir(join(from, rel), { withFileTypes: true })) {
    const path = join(rel, entry.name);
    if (entry.isDirectory()) await moveFiles(from, to, path, written);
    else {
      await rename(join(from, path), join(to, path));
      written.add(path);
    }
  }
}

async function removeOthers(to: string, rel: string, written: Set<string>) {
  for (const entry of await readdir(join(to, rel), { withFileTypes: true })) {
    const path = join(rel, entry.name);
    if (entry.isDirectory()) await removeOthers(to, path, written);
    else if (!written.has(path)) await rm(join(to, path), { force: true });
  }
}
