import type { TargetName } from "./targets.js";

/** One figure of the suite: a scenario's metric for one target, the median of its runs. */
export interface Row {
  scenario: string;
  target: TargetName;
  /** What `value` counts, e.g. "deliveries/s". */
  unit: string;
  /** True when more is better (throughput), false for costs (latency, memory). */
  higherIsBetter: boolean;
  value: number;
  /** Every run's value, in order. */
  runs: number[];
  p50Ms?: number;
  p99Ms?: number;
  /** Server CPU, percent of one core (median over runs). */
  serverCpu?: number;
  /** All load generators' CPU, percent of one core (median over runs). */
  loadCpu?: number;
  /** The whole machine's busy CPU, percent of one core (median over runs). */
  machineCpu?: number;
  /** Calls or streams that failed, summed over runs. */
  errors?: number;
  /** Anything a reader needs to read the figure right. */
  note?: string;
}

/** What every scenario module exports. */
export type ScenarioName =
  | "fan-out"
  | "many-rooms"
  | "echo"
  | "unary-send"
  | "idle-scale"
  | "durable-append"
  | "scale-out-fan-out"
  | "scale-out-append";

/** Every scenario, in the order the suite runs them. */
export const SCENARIOS: readonly ScenarioName[] = [
  "fan-out",
  "many-rooms",
  "echo",
  "unary-send",
  "idle-scale",
  "durable-append",
  "scale-out-fan-out",
  "scale-out-append",
];
