import { backoffDelay, sleep } from "../../src/client/backoff.js";
import type { ParleyClient } from "../../src/client/parley-client.js";

/**
 * Followed rooms: one Subscribe per room on the page's WebSocket (the same
 * socket as everything else), starting live, reporting each room's newest
 * seq as it changes (ready, each message, heartbeats) for its unread count.
 * A follow that fails (a restart, a per-user join rate at a reconnect) is
 * started again with backoff; missed messages do not matter here, only
 * the newest seq, which the next ready carries.
 *
 * Subscribing makes the page a member of the room, as the contract has it:
 * where tokens are checked, others see you there (issue 20 plans per-user
 * feeds that will not).
 */
export class RoomFollows {
  private readonly follows = new Map<string, AbortController>();

  constructor(
    private readonly api: ParleyClient,
    private readonly onLastSeq: (room: string, seq: bigint) => void,
  ) {}

  /** Follow exactly these rooms: start the new ones, end the others. */
  set(rooms: readonly string[]): void {
    const wanted = new Set(rooms);
    for (const [room, stop] of this.follows) {
      if (!wanted.has(room)) {
        stop.abort();
        this.follows.delete(room);
      }
    }
    for (const room of wanted) {
      if (this.follows.has(room)) continue;
      const stop = new AbortController();
      this.follows.set(room, stop);
      void this.follow(room, stop.signal);
    }
  }

  /** The rooms followed now. */
  get rooms(): string[] {
    return [...this.follows.keys()];
  }

  private async follow(room: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        for await (const event of this.api.subscribe(room, { signal })) {
          attempt = 0;
          const e = event.event;
          if (e.case === "ready") this.onLastSeq(room, e.value.lastSeq);
          else if (e.case === "message") this.onLastSeq(room, e.value.seq);
          else if (e.case === "heartbeat") this.onLastSeq(room, e.value.lastSeq);
        }
      } catch {
        // Given up for now (see the class comment): start again below.
      }
      try {
        await sleep(backoffDelay(attempt, { initialDelayMs: 1000, maxDelayMs: 10_000 }), signal);
      } catch {
        return;
      }
    }
  }
}
