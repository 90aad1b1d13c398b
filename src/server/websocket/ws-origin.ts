import type * as http from "node:http";

/**
 * Whether an upgrade's Origin may open a socket. Browsers apply no CORS to
 * WebSocket upgrades, so the server checks: no Origin (a client that is not
 * a browser) passes, as does the page's own origin (the Host it asked for,
 * over the scheme the server speaks) and each of `--cors-origin` ("*": any).
 */
export function originAllowed(
  req: http.IncomingMessage,
  scheme: "http" | "https",
  corsOrigins: readonly string[],
): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (corsOrigins.includes("*") || corsOrigins.includes(origin)) return true;
  const host = req.headers.host;
  return host !== undefined && origin.toLowerCase() === `${scheme}://${host}`.toLowerCase();
}
