import { monitorEventLoopDelay } from "node:perf_hooks";
import { LatencyHistogram } from "./histogram.js";
import type { AgentResult } from "./jobs.js";
import { nowUs } from "./marker.js";

/** Counters of one agent, reset at the start of the measured window ("mark"). */
export class MeasuredWindow {
  private count = 0;
  private total = 0;
  private readonly errors: Record<string, number> = {};
  private readonly latency = new LatencyHistogram();
  private cpu = process.cpuUsage();
  private started = performance.now();
  // The agent's own event-loop delay: a latency tail that the agent's loop
  // also shows was (at least partly) the meter's, not the server's.
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 1 });

  /** One success (a delivery, an acknowledgement, a round trip). */
  ok(): void {
    this.count++;
    this.total++;
  }

  /** One success whose message was stamped at `sentUs`. */
  okStamped(sentUs: number): void {
    this.count++;
    this.total++;
    this.latency.record(nowUs() - sentUs);
  }

  /** A call or stream that ended with this status. */
  error(code: number | string): void {
    const key = String(code);
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }

  /** Successes since the job started. */
  get successes(): number {
    return this.total;
  }

  /** Start the measured window now. */
  mark(): void {
    this.count = 0;
    this.latency.reset();
    this.cpu = process.cpuUsage();
    this.started = performance.now();
    this.loopDelay.reset();
    this.loopDelay.enable();
  }

  /** The window so far. */
  result(): AgentResult {
    const cpu = process.cpuUsage(this.cpu);
    return {
      count: this.count,
      total: this.total,
      errors: { ...this.errors },
      cpuMs: (cpu.user + cpu.system) / 1000,
      elapsedMs: performance.now() - this.started,
      latency: this.latency.toPairs(),
      loopDelayP99Ms: this.loopDelay.count > 0 ? this.loopDelay.percentile(99) / 1e6 : 0,
    };
  }
}
