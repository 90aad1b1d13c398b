import type { AgentResult } from "./jobs.js";

/** A job set up in an agent: connected and ready, waiting for "start". */
export interface Runner {
  /** Begin sending (publishers, echo, senders; idle: open more streams); subscribers are already counting. */
  start(): void | Promise<void>;
  /** Start the measured window. */
  mark(): void;
  /** Stop sending and report the window. */
  stop(): AgentResult;
  /** Wait for calls still in flight, close every connection; resolves with the total successes. */
  close(): Promise<number>;
}

/** The port of a base URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Resolves when `pending` reaches zero (polling: only used while closing). */
export async function drained(pending: () => number, maxMs = 5000): Promise<void> {
  const until = Date.now() + maxMs;
  while (pending() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}
