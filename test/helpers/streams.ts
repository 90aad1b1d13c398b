import type { RoomEvent } from "../../gen/chat/v1/chat_pb.js";

/** Seqs of the message events in a list of events. */
export function messageSeqs(events: readonly RoomEvent[]): number[] {
  return events.flatMap((e) => (e.event.case === "message" ? [Number(e.event.value.seq)] : []));
}

/** [from, from+1, …, to]. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/**
 * Read events from a stream of `{ events }` responses until `done` says so;
 * returns every event read. The iterator is left open for more reading.
 */
export async function readUntil(
  it: AsyncIterator<{ events: RoomEvent[] }>,
  done: (seen: RoomEvent[]) => boolean,
): Promise<RoomEvent[]> {
  const seen: RoomEvent[] = [];
  while (!done(seen)) {
    const next = await it.next();
    if (next.done) throw new Error(`stream ended after ${seen.length} events`);
    seen.push(...next.value.events);
  }
  return seen;
}
