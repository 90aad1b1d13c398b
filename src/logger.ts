import { pino } from "pino";

/** The logger type the server passes around. */
export type Logger = pino.Logger;

/**
 * One JSON line per event on stdout (pino). Quiet by default: "info" logs
 * start, stop and failures, never a line per message; "debug" adds streams.
 *
 * Writes are synchronous. With pino's default asynchronous destination, a
 * process whose stdout reader has gone (`npm start | head -1`) never exits:
 * at exit pino flushes what is pending with sonic-boom's flushSync, which
 * retries a failed write forever (EPIPE included) and blocks the thread, so
 * a second signal cannot end it either. A synchronous write meets EPIPE at
 * once, and pino then stops logging. The server logs little (no line per
 * message), so the cost is small.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "parley" } }, pino.destination({ dest: 1, sync: true }));
}
