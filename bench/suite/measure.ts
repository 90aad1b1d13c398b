import * as os from "node:os";
import { LatencyHistogram } from "../load/histogram.js";
import type { AgentResult } from "../load/jobs.js";
import type { Agent } from "./agents.js";
import { cpuMsOf, machineTicks } from "./proc-stats.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One measured window of a scenario run. */
export interface Window {
  /** Per agent role, its result. */
  results: Record<string, AgentResult>;
  /** Server CPU over the window, percent of one core. */
  serverCpu: number;
  /** All load agents' CPU over the window, percent of one core. */
  loadCpu: number;
  /**
   * The whole machine's busy CPU, percent of one core (200% = both cores of
   * two). Loopback TCP work done in softirq is charged to no process, so this
   * shows when the machine, not the server, is the limit.
   */
  machineCpu: number;
  /** CPU time (ms) over the window of each extra process measureWindow was given. */
  otherCpuMs: Record<string, number>;
  /** Length of the window (ms). */
  elapsedMs: number;
}

/**
 * Start the agents' load, let it warm up, then measure one window: each
 * agent's counts and CPU, and the server's CPU from /proc (and that of
 * `others`, e.g. a second node or redis-server: name -> pid).
 */
export async function measureWindow(
  serverPid: number,
  agents: Record<string, Agent>,
  warmupMs: number,
  measureMs: number,
  others: Record<string, number> = {},
): Promise<Window> {
  const all = Object.values(agents);
  for (const agent of all) agent.send({ type: "start" });
  await sleep(warmupMs);
  for (const agent of all) agent.send({ type: "mark" });
  const cpu0 = cpuMsOf(serverPid);
  const others0 = Object.entries(others).map(([name, pid]) => [name, pid, cpuMsOf(pid)] as const);
  const m0 = machineTicks();
  const t0 = performance.now();
  await sleep(measureMs);
  const entries = await Promise.all(
    Object.entries(agents).map(async ([role, agent]) => [role, await agent.stop()] as const),
  );
  const elapsed = performance.now() - t0;
  const serverCpu = ((cpuMsOf(serverPid) - cpu0) / elapsed) * 100;
  const otherCpuMs = Object.fromEntries(
    others0.map(([name, pid, before]) => [name, cpuMsOf(pid) - before]),
  );
  const m1 = machineTicks();
  const cores = os.availableParallelism();
  const machineCpu = ((m1.busy - m0.busy) / (m1.total - m0.total)) * cores * 100;
  const results = Object.fromEntries(entries);
  const loadCpu = entries.reduce((sum, [, r]) => sum + (r.cpuMs / r.elapsedMs) * 100, 0);
  return { results, serverCpu, loadCpu, machineCpu, otherCpuMs, elapsedMs: elapsed };
}

/** Successes per second in an agent's window. */
export function perSecond(result: AgentResult | undefined): number {
  return result ? result.count / (result.elapsedMs / 1000) : 0;
}

/** Errors of an agent, summed over codes. */
export function errorCount(result: AgentResult | undefined): number {
  return Object.values(result?.errors ?? {}).reduce((a, b) => a + b, 0);
}

/** Median of numbers (the lower middle for an even count). */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** p50 and p99 (ms) of several windows' latency histograms merged. */
export function latencyOf(results: (AgentResult | undefined)[]): { p50: number; p99: number } {
  const h = new LatencyHistogram();
  for (const r of results) if (r) h.add(r.latency);
  return { p50: h.quantileMs(0.5), p99: h.quantileMs(0.99) };
}
