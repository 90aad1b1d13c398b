import type { ParleyClient } from "../../src/client/parley-client.js";
import type { MyRooms } from "./my-rooms.js";

/**
 * Moves the person's read position as they read: while a room is shown and
 * the page is visible, MarkRead(room, the last seq shown). The server keeps
 * it and tells every feed of that person (other tabs, other devices), whose
 * read events clear the room's badge there. A hidden tab marks nothing: its
 * messages stay unread, in its title too, until someone looks.
 *
 * Only a member has a read position, so nothing is sent before the feed
 * lists the room (opening a room joins it first); a position at or behind
 * the one known is not sent either.
 */
export class ReadMarker {
  private room = "";
  private shownSeq = 0n;
  /** The highest seq asked for per room (so a burst of messages is not a burst of calls). */
  private readonly asked = new Map<string, bigint>();

  constructor(
    private readonly api: ParleyClient,
    private readonly rooms: MyRooms,
    signal: AbortSignal,
  ) {
    document.addEventListener("visibilitychange", () => this.flush(), { signal });
  }

  /** Whether the person can see the page now. */
  get visible(): boolean {
    return document.visibilityState === "visible";
  }

  /** The room shown now ("" for none), and the last seq it shows. */
  shown(room: string, seq: bigint): void {
    if (room !== this.room) this.shownSeq = 0n;
    this.room = room;
    if (seq > this.shownSeq) this.shownSeq = seq;
    this.flush();
  }

  /** Send what there is to send (also after the feed changed: a room just joined). */
  flush(): void {
    const { room, shownSeq: seq } = this;
    const member = this.rooms.get(room);
    if (!this.visible || member === undefined || seq <= member.readSeq) return;
    if (seq <= (this.asked.get(room) ?? 0n)) return;
    this.asked.set(room, seq);
    this.api.rpc.markRead({ room, seq }).then(
      (answer) => this.rooms.moveRead(room, answer.readSeq),
      () => {
        // Not moved (offline, or no longer a member): ask again when there is something new to say.
        if (this.asked.get(room) === seq) this.asked.delete(room);
      },
    );
  }
}
