import { randomBytes } from "node:crypto";
import type { MessageLog } from "../store/message-log.js";
import { checkResume, type ResumePoint, trimmedWhileReading } from "./resume-errors.js";
import type { Member, Room } from "./room.js";
import { messageEvent, type QueuedEvent, readyEvent } from "./room-event.js";
import { type QueueLimits, Subscription } from "./subscription.js";

/** How many stored messages one response carries while replaying history. */
const REPLAY_PAGE = 500;

/** What a subscriber asks for. */
export interface StreamRequest extends ResumePoint {
  /** Display name announced in join and leave events ("" for anonymous). */
  author: string;
}

/**
 * A room's events for one subscriber, as batches: `ready`, then the stored
 * messages after sinceSeq, then live events.
 *
 * The seam between history and live follows the order Centrifugo uses: attach
 * to live first (events queue up), then read the head and the history, then
 * drain the queue dropping every message at or below the last seq delivered.
 * A live message that arrives with a seq beyond the next expected one (it can
 * only happen at the seam, or with a store shared by several processes) is
 * preceded by the missing range read from the store. So each message is
 * delivered exactly once, in seq order.
 */
export async function* streamRoom(
  openRoom: () => Room,
  log: MessageLog,
  request: StreamRequest,
  limits: QueueLimits,
  signal: AbortSignal,
): AsyncGenerator<QueuedEvent[]> {
  // The room is looked up only when the stream starts: a Room object with no
  // subscribers is released, so one fetched earlier could be stale by now.
  const room = openRoom();
  const sub = new Subscription(randomBytes(6).toString("base64url"), request.author, limits);
  room.attach(sub);
  // Taken in the same turn as attach: the join and leave events queued from
  // here on are exactly the changes to this list.
  let members: Member[] | undefined = room.members();
  try {
    const head = await log.head(room.name);
    const refusal = checkResume(room.name, request, head);
    if (refusal) throw refusal;
    room.noteLastSeq(head.lastSeq);
    const ready = readyEvent(room.name, head, sub.memberId, members);
    // Held for the stream's life otherwise: O(room size) per subscriber.
    members = undefined;
    yield [ready];

    let cursor = request.sinceSeq ?? head.lastSeq;
    const readUpTo = async function* (lastWanted: number) {
      while (cursor < lastWanted) {
        signal.throwIfAborted();
        const page = await log.read(room.name, {
          afterSeq: cursor,
          beforeSeq: lastWanted + 1,
          limit: REPLAY_PAGE,
          newest: false,
        });
        if (page[0]?.seq !== cursor + 1)
          throw trimmedWhileReading(room.name, cursor + 1, page[0]?.seq);
        cursor = page[page.length - 1]?.seq ?? cursor;
        yield page.map(messageEvent);
      }
    };

    yield* readUpTo(head.lastSeq);
    for (;;) {
      const batch = await sub.take(signal);
      let out: QueuedEvent[] = [];
      for (const queued of batch) {
        if (queued.seq === 0) {
          out.push(queued);
          continue;
        }
        if (queued.seq <= cursor) continue;
        if (queued.seq > cursor + 1) {
          if (out.length > 0) yield out;
          out = [];
          yield* readUpTo(queued.seq - 1);
        }
        out.push(queued);
        cursor = queued.seq;
      }
      if (out.length > 0) yield out;
    }
  } finally {
    room.detach(sub);
  }
}
