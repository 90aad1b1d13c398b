import type { EventEmitter } from "node:events";
import { CellFamily, HistogramFamily } from "./cells.js";
import { registry } from "./registry.js";

const relayLag = new HistogramFamily(
  "parley_redis_relay_lag_seconds",
  "From a message's append on Redis (its stored-at time, Redis' clock) to its delivery to this node's subscribers, for messages another node appended.",
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
).register(registry);
const reconnects = new CellFamily(
  "parley_redis_reconnects_total",
  "Redis connections re-established after a loss, by connection (store: commands; live: pub/sub).",
  "counter",
).register(registry);

const lag = relayLag.cell();

/** A relayed message, appended at `sentAtMs` (Redis' clock), is being delivered here now. */
export function observeRelayLag(sentAtMs: number): void {
  // Clocks of two hosts may disagree by a little: never a negative lag.
  lag.observe(Math.max(0, Date.now() - sentAtMs) / 1000);
}

/**
 * Count each `readyEvent` of a Redis client after its first: each is the
 * connection coming back (ioredis reconnects on its own).
 */
export function countReconnects(
  client: EventEmitter,
  connection: "store" | "live",
  readyEvent: string,
): void {
  const cell = reconnects.cell({ connection });
  let first = true;
  client.on(readyEvent, () => {
    if (first) first = false;
    else cell.value++;
  });
}
