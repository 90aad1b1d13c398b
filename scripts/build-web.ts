import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where `npm run build` puts the web app (the server's default --web-dir). */
export const WEB_OUT_DIR = join(ROOT, "dist", "web");

/**
 * Build the web app from web/ into `outDir`: one minified ES module bundle
 * and one stylesheet under assets/ with content hashes in their names, and
 * index.html pointing at them. The folder is emptied first, so no stale asset
 * survives a rebuild. Returns the files written, relative to `outDir`.
 */
export async function buildWeb(outDir: string = WEB_OUT_DIR): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(ROOT, "web", "src", "main.ts")],
    bundle: true,
    format: "esm",
    target: ["chrome111", "firefox114", "safari16.4"],
    minify: true,
    sourcemap: "linked",
    outdir: join(outDir, "assets"),
    entryNames: "[name]-[hash]",
    metafile: true,
    logLevel: "warning",
    legalComments: "none",
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith(".js"));
  const css = outputs.find((f) => f.endsWith(".css"));
  if (!js || !css) throw new Error(`esbuild wrote no JS or CSS: ${outputs.join(", ")}`);
  const template = await readFile(join(ROOT, "web", "index.html"), "utf8");
  const html = template.replace("%JS%", `/assets/${js}`).replace("%CSS%", `/assets/${css}`);
  await writeFile(join(outDir, "index.html"), html);
  return ["index.html", ...outputs.map((f) => `assets/${f}`)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildWeb(process.argv[2] ?? WEB_OUT_DIR);
  console.log(`web app: ${files.join(", ")}`);
}
