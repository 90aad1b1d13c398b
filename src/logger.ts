import { pino } from "pino";

/** The logger type the server passes around. */
export type Logger = pino.Logger;

/**
 * One JSON line per event on stdout (pino). Quiet by default: "info" logs
 * start, stop and failures, never a line per message; "debug" adds streams.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "parley" } });
}
