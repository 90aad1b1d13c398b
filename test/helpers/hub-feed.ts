import { endOfSignal } from "../../src/calls/call-end.js";
import type { QueuedEvent } from "../../src/rooms/room-event.js";
import type { RoomHub } from "../../src/rooms/room-hub.js";

/** One room subscriber fed by a hub, recording every event. */
export interface Feed {
  events: QueuedEvent[];
  ended: unknown;
  /** [seq, text] of each message event received, in order. */
  messages(): Array<[number, string]>;
  /** "join <author>" / "leave <author>" for each presence event received, in order. */
  presence(): string[];
  /** "<author> typing" / "<author> stopped" for each typing event received, in order. */
  typing(): string[];
  /** The authors in the ready event's member list. */
  readyMembers(): string[];
  stop(): void;
}

/** Subscribe to a room through a hub (live from now on), recording every event until stop(). */
export function feed(hub: RoomHub, room: string, author = "watcher"): Feed {
  const stop = new AbortController();
  const f: Feed = {
    events: [],
    ended: undefined,
    messages: () =>
      f.events.flatMap((q) =>
        q.event.event.case === "message"
          ? [[Number(q.event.event.value.seq), q.event.event.value.text] as [number, string]]
          : [],
      ),
    presence: () =>
      f.events.flatMap((q) =>
        q.event.event.case === "join" || q.event.event.case === "leave"
          ? [`${q.event.event.case} ${q.event.event.value.author}`]
          : [],
      ),
    typing: () =>
      f.events.flatMap((q) =>
        q.event.event.case === "typing"
          ? [`${q.event.event.value.author} ${q.event.event.value.stopped ? "stopped" : "typing"}`]
          : [],
      ),
    readyMembers: () =>
      f.events.flatMap((q) =>
        q.event.event.case === "ready" ? q.event.event.value.members.map((m) => m.author) : [],
      ),
    stop: () => stop.abort(new Error("test done")),
  };
  hub.feed(room, { author, sinceSeq: undefined, epoch: "" }, endOfSignal(stop.signal), {
    deliver(batch) {
      f.events.push(...batch);
      return true;
    },
    drained: () => Promise.resolve(),
    end(reason) {
      f.ended = reason;
    },
  });
  return f;
}

/** Poll until `done` holds (every 10 ms, up to 10 s); throws with `state()` when it never does. */
export async function until(done: () => boolean, state: () => unknown): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 10_000) throw new Error(`gave up waiting; state: ${JSON.stringify(state())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether a feed has received its ready event. */
export const isReady = (f: Feed): boolean => f.events.some((q) => q.event.event.case === "ready");
