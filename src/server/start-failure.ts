import type { Config } from "../config.js";

/** The Node error code of a failed listen or open, if it has one. */
function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

/**
 * One line for a person, saying why the server could not start and what to
 * do: the port taken, a port the user may not bind, an address this machine
 * does not have; any other failure in its own words.
 */
export function startFailureLine(error: unknown, config: Pick<Config, "port" | "host">): string {
  const where = config.host === undefined ? `port ${config.port}` : `${config.host}:${config.port}`;
  switch (errorCode(error)) {
    case "EADDRINUSE":
      return `parley could not start: ${where} is already in use (another Parley, or another program). Pick another port with --port 9000 (or PORT=9000), or --port 0 for any free one.`;
    case "EACCES":
      return `parley could not start: this user may not listen on ${where} (ports below 1024 need privileges). Pick another port with --port 8080 (or PORT=8080).`;
    case "EADDRNOTAVAIL":
      return `parley could not start: ${config.host ?? "that address"} is not an address of this machine. Give one it has with --host (or PARLEY_HOST), or leave it out to listen on all.`;
    default:
      return `parley could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}
