import type { PublishJob, SubscribeJob } from "../load/jobs.js";
import type { Target } from "./targets.js";

/**
 * The two jobs of a one-room fan-out load: subscribers on a target's room,
 * and a publisher into it. The fan-out scenario, its latency curve and
 * bench/latency-tail.ts start the same load this way.
 */
export function roomSubscribers(
  target: Target,
  room: string,
  shape: { streams: number; connections: number; latency: boolean },
): SubscribeJob {
  return {
    kind: "subscribe",
    wire: target.wire,
    url: target.url,
    token: target.token,
    rooms: [room],
    ...shape,
  };
}

/** See roomSubscribers. */
export function roomPublisher(
  target: Target,
  room: string,
  pace: { textBytes: number; window: number; rate: number | null; maxLag: number | null },
): PublishJob {
  return {
    kind: "publish",
    wire: target.wire,
    url: target.url,
    token: target.token,
    rooms: [room],
    ...pace,
  };
}
