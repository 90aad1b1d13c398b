import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** This package's root: the nearest folder above this file with a package.json (from src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Where `npm run build` writes the web app. Its own module so that reading
 * the server's flags does not load the static file server.
 */
export const DEFAULT_WEB_DIR = join(packageRoot(), "dist", "web");
