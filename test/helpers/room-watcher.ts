import type { Ready } from "../../gen/chat/v1/chat_pb.js";
import { chatClient } from "./test-server.js";

/** A Subscribe stream over the network, recording what it receives. */
export interface RoomWatcher {
  ready: Ready | undefined;
  /** "join <author>" / "leave <author>", in order. */
  presence: string[];
  /** The error (or "end of stream") the stream ended with; undefined while it runs. */
  ended: unknown;
  stop(): void;
}

/** Subscribe to `room` on the server at `url` as `author`, live (no since_seq). */
export function watchRoom(url: string, room: string, author: string): RoomWatcher {
  const abort = new AbortController();
  const w: RoomWatcher = {
    ready: undefined,
    presence: [],
    ended: undefined,
    stop: () => abort.abort(),
  };
  void (async () => {
    try {
      for await (const res of chatClient(url).subscribe(
        { room, author },
        { signal: abort.signal },
      )) {
        for (const e of res.events) {
          if (e.event.case === "ready") w.ready = e.event.value;
          else if (e.event.case === "join" || e.event.case === "leave")
            w.presence.push(`${e.event.case} ${e.event.value.author}`);
        }
      }
      w.ended = "end of stream";
    } catch (error) {
      w.ended = error;
    }
  })();
  return w;
}

/** Poll until `done` resolves true (every 20 ms, up to `ms`); throws with `state()` when it never does. */
export async function eventually(
  done: () => boolean | Promise<boolean>,
  state: () => unknown,
  ms = 20_000,
): Promise<void> {
  const start = Date.now();
  while (!(await done())) {
    if (Date.now() - start > ms)
      throw new Error(`gave up after ${ms} ms; state: ${JSON.stringify(await state())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
