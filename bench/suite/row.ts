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
  /** For a point of a latency curve: the offered rate, percent of the target's own maximum. */
  loadPercent?: number;
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
  | "scale-out-append"
  | "fan-out-curve";

/** Every scenario a plain `npm run bench` runs, in order. */
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

/**
 * Every scenario --only may name: also the fan-out latency curve, which
 * takes minutes of its own (a maximum and four rates per target).
 */
export const ALL_SCENARIOS: readonly ScenarioName[] = [...SCENARIOS, "fan-out-curve"];
