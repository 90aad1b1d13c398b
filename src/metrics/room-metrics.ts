import { CellFamily } from "./cells.js";
import { registry } from "./registry.js";

const deliveriesTotal = new CellFamily(
  "parley_deliveries_total",
  "Room events (messages, joins, leaves, typing, heartbeats) handed to subscribers' streams.",
  "counter",
).register(registry);
const queueBytes = new CellFamily(
  "parley_subscriber_queue_bytes",
  "Encoded bytes of room events that subscribers have not read yet, all subscribers together.",
  "gauge",
).register(registry);
const cutoffs = new CellFamily(
  "parley_slow_consumer_cutoffs_total",
  "Subscribers cut off as too slow (RESOURCE_EXHAUSTED), by reason: hard_cap (4x --queue-bytes unread) or grace (over --queue-events/--queue-bytes for longer than --slow-grace-ms).",
  "counter",
).register(registry);

/**
 * The room side's cells, written directly by the subscription queues
 * (src/rooms/subscription.ts) and the subscriber feed (room-stream.ts): an
 * addition each, no allocation per delivery.
 */
export const roomMetrics = {
  /** Add the events of each batch handed to a subscriber's sink. */
  deliveries: deliveriesTotal.cell(),
  /** Add an event's size when queued, subtract it when read or dropped. */
  queueBytes: queueBytes.cell(),
  cutoffHardCap: cutoffs.cell({ reason: "hard_cap" }),
  cutoffGrace: cutoffs.cell({ reason: "grace" }),
};
