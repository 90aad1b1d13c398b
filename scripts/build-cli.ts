import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where `npm run build` puts the `parley` command (package.json's "bin"). */
export const CLI_OUT_DIR = join(ROOT, "dist", "cli");

/**
 * Packages the bundle loads from node_modules as they are: native or
 * CommonJS code that finds files of its own at run time (better-sqlite3's
 * binary, pino's worker transports, ws's optional native helpers), and the
 * rest of what only `parley serve` loads. Every client command's code,
 * @bufbuild/protobuf and connect included, is in the bundle.
 */
const EXTERNAL = [
  "better-sqlite3",
  "ioredis",
  "pino",
  "pino-pretty",
  "prom-client",
  "sirv",
  "ws",
  "bufferutil",
  "utf-8-validate",
];

/**
 * Bundle the `parley` command into `outDir`: its entry (parley.js) holds
 * what every command needs, and what only some load on demand (the server
 * behind `serve`) is split into chunks of its own. A client command then
 * reads a few files instead of about 200 modules, which is most of its start
 * time (bench/RESULTS.md, "`parley send` from a shell"). Returns the files
 * written.
 */
export async function buildCli(outDir: string = CLI_OUT_DIR): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: [join(ROOT, "src", "cli", "parley.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    outdir: outDir,
    external: EXTERNAL,
    // CommonJS code in the bundle (commander) calls require(); an ES module has none of its own.
    banner: {
      js: "import { createRequire as parleyRequire } from 'node:module'; const require = parleyRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: "warning",
    legalComments: "none",
  });
  return Object.keys(result.metafile.outputs).map((p) => basename(p));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildCli(process.argv[2] ?? CLI_OUT_DIR);
  console.log(`parley command: ${files.join(", ")}`);
}
