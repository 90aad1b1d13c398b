import { MemoryLog } from "../../src/store/memory-log.js";
import type { NewMessage } from "../../src/store/message-log.js";

/** The time every message of a RepeatableLog is stored at. */
export const CLOCK_MS = 1_790_000_000_123;

/**
 * A memory log whose ids, epochs and times repeat from one server to the
 * other, so two servers given the same calls answer byte for byte alike
 * (the differential tests).
 */
export class RepeatableLog extends MemoryLog {
  constructor() {
    let ids = 0;
    super({
      retention: 100,
      now: () => CLOCK_MS,
      newMessageId: () => `id-${++ids}`,
      incarnation: "incarnation-1",
    });
  }

  /** The room "store-fails" fails as a broken store driver would: a plain Error with internal text. */
  override append(room: string, message: NewMessage) {
    if (room === "store-fails") return Promise.reject(new Error("disk /var/lib/parley is on fire"));
    return super.append(room, message);
  }
}

/**
 * Server tuning under which two servers given the same calls answer alike:
 * a RepeatableLog, a fixed clock, and member ids counted from 1.
 */
export function repeatableTuning() {
  let members = 0;
  return {
    log: new RepeatableLog(),
    now: () => CLOCK_MS,
    newMemberId: () => `member-${++members}`,
  };
}
