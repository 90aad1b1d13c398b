import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sirv from "sirv";
import type { NodeHandlerFn } from "../fallback-router.js";

/** This package's root: the nearest folder above this file with a package.json (from src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Where `npm run build` writes the web app. */
export const DEFAULT_WEB_DIR = join(packageRoot(), "dist", "web");

/**
 * A Content-Security-Policy for the app's pages: only this origin's scripts,
 * styles and connections. User text is rendered as text anyway; this is the
 * second line of defence should a bug ever let markup through.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Serve the built web app from `dir` (sirv). Files are looked up on every
 * request and revalidated by ETag, so a rebuild while the server runs is
 * served at once, never a stale or half-cached mix. When the app has not been
 * built, `/` says how to build it; unknown paths are 404.
 */
export function webAppFiles(dir: string): NodeHandlerFn {
  // dev mode of sirv = no startup file index (see above), not a development server.
  const serve = sirv(dir, {
    dev: true,
    etag: true,
    setHeaders(res, pathname) {
      res.setHeader("x-content-type-options", "nosniff");
      if (pathname.endsWith(".html") || pathname === "/") {
        res.setHeader("content-security-policy", CSP);
        res.setHeader("referrer-policy", "no-referrer");
      }
    },
  });
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return notFound(res, "");
    if (!existsSync(join(dir, "index.html"))) {
      return notFound(
        res,
        `The web app is not built (no ${join(dir, "index.html")}): run \`npm run build\`.\n`,
      );
    }
    serve(req as never, res as never, () => notFound(res, ""));
  };
}

function notFound(res: Parameters<NodeHandlerFn>[1], body: string): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}
