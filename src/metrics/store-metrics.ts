import type { MessageLog } from "../store/message-log.js";
import { CellFamily, HistogramFamily } from "./cells.js";
import { LATENCY_BUCKETS, registry } from "./registry.js";

const appendSeconds = new HistogramFamily(
  "parley_store_append_duration_seconds",
  "Time for the store to make one message durable (an append that resolved), by engine.",
  LATENCY_BUCKETS,
).register(registry);
const appendErrors = new CellFamily(
  "parley_store_append_errors_total",
  "Appends the store failed (the call answered UNAVAILABLE or INTERNAL), by engine.",
  "counter",
).register(registry);
const storeUp = new CellFamily(
  "parley_store_up",
  "1 while the store can serve calls, 0 while it cannot (Redis unreachable); embedded engines are always 1.",
  "gauge",
);
storeUp.register(registry);

/** Stores of this process whose state parley_store_up reports, by engine. */
const watched = new Map<MessageLog, string>();
storeUp.collect = () => {
  const up = new Map<string, boolean>();
  for (const [log, engine] of watched) {
    up.set(engine, (up.get(engine) ?? true) && (log.serving?.() ?? true));
  }
  for (const [engine, serving] of up) storeUp.cell({ engine }).value = serving ? 1 : 0;
};

/**
 * Time every append of `log` under `engine` ("memory", "sqlite", "redis",
 * "redis-cluster"), count its failures, and report whether it serves until
 * it closes. Returns the same log.
 */
export function measureStore<L extends MessageLog>(log: L, engine: string): L {
  const latency = appendSeconds.cell({ engine });
  const errors = appendErrors.cell({ engine });
  const append = log.append.bind(log);
  log.append = (room, message) => {
    const started = performance.now();
    return append(room, message).then(
      (result) => {
        latency.observe((performance.now() - started) / 1000);
        return result;
      },
      (error: unknown) => {
        errors.value++;
        throw error;
      },
    );
  };
  const close = log.close.bind(log);
  log.close = () => {
    watched.delete(log);
    return close();
  };
  watched.set(log, engine);
  return log;
}
