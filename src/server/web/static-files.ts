import { existsSync } from "node:fs";
import { join } from "node:path";
import sirv from "sirv";
import type { NodeHandlerFn } from "../fallback-router.js";

export { DEFAULT_WEB_DIR } from "./default-web-dir.js";

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
 *
 * Range requests are answered with the whole file (200): RFC 9110 section
 * 14.2 lets a server ignore Range, and sirv's own parsing throws on
 * `bytes=5-2` (an exception that ended the process) and sends the wrong
 * bytes for `bytes=-5` and `bytes=0-0`. The app's files are small bundles.
 */
export function webAppFiles(dir: string): NodeHandlerFn {
  // sirv's dev mode looks files up per request. Its production mode indexes
  // them once at startup and would then serve a rebuilt index.html with the
  // old file's length, so dev mode stays and the dotfile filter that
  // production mode applies is done here (hasDotSegment).
  const serve = sirv(dir, {
    dev: true,
    etag: true,
    setHeaders(res, pathname) {
      if (pathname.endsWith(".html") || pathname === "/") {
        res.setHeader("content-security-policy", CSP);
        res.setHeader("referrer-policy", "no-referrer");
      }
    },
  });
  return (req, res) => {
    res.setHeader("x-content-type-options", "nosniff");
    if (req.method !== "GET" && req.method !== "HEAD") return notFound(res, "");
    if (hasDotSegment(req.url ?? "/")) return notFound(res, "");
    if (!existsSync(join(dir, "index.html"))) {
      return notFound(
        res,
        `The web app is not built (no ${join(dir, "index.html")}): run \`npm run build\`.\n`,
      );
    }
    delete req.headers.range;
    res.setHeader("accept-ranges", "none");
    serve(req as never, res as never, () => notFound(res, ""));
  };
}

/**
 * Whether a request path names a hidden file or folder (a segment starting
 * with "."), as sirv decodes it; /.well-known/ stays reachable, as in sirv.
 * An undecodable path counts as hidden: it names no file of the app.
 */
function hasDotSegment(url: string): boolean {
  let path: string;
  try {
    path = decodeURIComponent(url.split("?", 1)[0] ?? "/");
  } catch {
    return true;
  }
  return path
    .split(/[/\\]/)
    .some((segment) => segment.startsWith(".") && segment !== ".well-known");
}

function notFound(res: Parameters<NodeHandlerFn>[1], body: string): void {
  res.writeHead(404, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}
