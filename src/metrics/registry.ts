import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * The process's one metrics registry: every parley_ metric registers here
 * when its module loads, and the metrics listener (metrics-server.ts)
 * writes it out. One per process, as Node's default metrics are per
 * process; in-process tests that start several servers share it.
 */
export const registry = new Registry();

let processMetrics = false;

/**
 * Add Node's default metrics (process_* and nodejs_*: CPU, memory, event
 * loop lag, GC, handles) once per process. They sample on a timer and on
 * each scrape, so only a server that serves /metrics turns them on.
 */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** Bucket bounds (seconds) for call and store latencies: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
