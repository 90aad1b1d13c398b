import type { PresenceChange, SharedMember, SharedPresence } from "../store/message-log.js";
import type { RelayTarget } from "./other-nodes.js";
import { joinEvent, leaveEvent } from "./room-event.js";

/**
 * A room's members on the other processes sharing the store, as this
 * process's subscribers of the room know them. Every change to the list is
 * published to them as a join or leave event, so "Ready's members, then each
 * join and leave" stays exact. The list is first read once the room's live
 * feed stands (after the first local subscriber attached); a subscription's
 * Ready waits for that read (`loaded`), so the first subscriber of a node
 * finds the other nodes' members in its Ready, not as joins after it.
 *
 * Changes come numbered (version) from the store's live feed, which is
 * at-most-once; a version that skips one, or a resumed feed, reads the whole
 * list again and publishes the difference.
 */
export class RemoteMembers {
  /** member id -> author, other nodes only. */
  private readonly members = new Map<string, string>();
  private version = 0;
  private settle: () => void = () => undefined;
  /** Resolves once the list was first read, or that read failed. */
  readonly loaded = new Promise<void>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly room: RelayTarget,
    private readonly presence: SharedPresence,
  ) {}

  /** Who is subscribed elsewhere, in the order this process learnt of them. */
  list(): Array<{ memberId: string; author: string }> {
    return Array.from(this.members, ([memberId, author]) => ({ memberId, author }));
  }

  /** Apply one change from the live feed. */
  apply(change: PresenceChange): void {
    if (change.version <= this.version) return;
    if (change.version > this.version + 1) {
      void this.reload();
      return;
    }
    this.version = change.version;
    if (change.node === this.presence.nodeId) return;
    if (change.kind === "join") this.add(change);
    else this.remove(change.memberId);
  }

  /** Read the whole list and publish what changed since the version held. */
  async reload(): Promise<void> {
    let snapshot: { version: number; members: SharedMember[] };
    try {
      snapshot = await this.presence.members(this.room.name);
    } catch {
      this.settle();
      return; // Unreachable: the next resume reads it again.
    }
    this.applySnapshot(snapshot);
    this.settle();
  }

  /** Take a whole list read at some version, publishing the difference, unless it is older than what is held. */
  private applySnapshot(snapshot: { version: number; members: SharedMember[] }): void {
    if (snapshot.version <= this.version) return;
    this.version = snapshot.version;
    const now = new Map<string, SharedMember>();
    for (const m of snapshot.members) if (m.node !== this.presence.nodeId) now.set(m.memberId, m);
    for (const memberId of [...this.members.keys()]) if (!now.has(memberId)) this.remove(memberId);
    for (const m of now.values()) if (!this.members.has(m.memberId)) this.add(m);
  }

  private add(m: { memberId: string; author: string }): void {
    if (this.members.has(m.memberId)) return;
    this.members.set(m.memberId, m.author);
    this.room.publish(joinEvent(m.memberId, m.author));
  }

  private remove(memberId: string): void {
    const author = this.members.get(memberId);
    if (author === undefined) return;
    this.members.delete(memberId);
    this.room.publish(leaveEvent(memberId, author));
  }
}
