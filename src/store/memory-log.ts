import { MemoryGuestNames } from "./guest-names.js";
import { retryConflict } from "./idempotency.js";
import { newEpoch, newMessageId, roomEpoch } from "./ids.js";
import { MemoryPeople } from "./memory-people.js";
import type {
  AppendResult,
  LogOptions,
  MessageLog,
  NewMessage,
  ReadRange,
  RoomHead,
  RoomListing,
  StoredMessage,
} from "./message-log.js";
import { sliceRange } from "./slice-range.js";

interface MemoryRoom {
  epoch: string;
  /** Retained messages, oldest first; messages[i].seq === firstSeq + i. */
  messages: StoredMessage[];
  bySeqOffset: number;
  byClientId: Map<string, StoredMessage>;
  lastSeq: number;
}

/** Options of the memory log: the common ones, and what tests may fix to get repeatable answers. */
export interface MemoryLogOptions extends LogOptions {
  /** The time a message is stored, in ms since the epoch (default Date.now). */
  now?: () => number;
  /** New message ids (default random UUIDs). */
  newMessageId?: () => string;
  /** This store's incarnation id, from which room epochs derive (default random). */
  incarnation?: string;
}

/**
 * An in-process message log for tests and throwaway runs. Nothing survives
 * the process; every start is a new incarnation, so a new epoch for every room.
 */
export class MemoryLog implements MessageLog {
  readonly guestNames = new MemoryGuestNames();
  readonly people = new MemoryPeople();
  private readonly rooms = new Map<string, MemoryRoom>();
  private closed = false;
  private readonly now: () => number;
  private readonly newMessageId: () => string;
  private readonly incarnation: string;

  constructor(private readonly options: MemoryLogOptions) {
    this.now = options.now ?? Date.now;
    this.newMessageId = options.newMessageId ?? newMessageId;
    this.incarnation = options.incarnation ?? newEpoch();
  }

  /** How many rooms the store holds (rooms come into being on their first append only). */
  get roomCount(): number {
    return this.rooms.size;
  }

  async append(room: string, message: NewMessage): Promise<AppendResult> {
    this.assertOpen();
    const r = this.room(room);
    if (message.clientMessageId !== "") {
      const original = r.byClientId.get(message.clientMessageId);
      if (original) {
        const conflict = retryConflict(original, message);
        if (conflict) throw conflict;
        return { message: original, duplicate: true };
      }
    }
    const stored: StoredMessage = {
      room,
      seq: r.lastSeq + 1,
      id: this.newMessageId(),
      author: message.author,
      text: message.text,
      sentAtMs: this.now(),
      clientMessageId: message.clientMessageId,
    };
    r.lastSeq = stored.seq;
    r.messages.push(stored);
    if (stored.clientMessageId !== "") r.byClientId.set(stored.clientMessageId, stored);
    this.trim(r);
    return { message: stored, duplicate: false };
  }

  async read(room: string, range: ReadRange): Promise<StoredMessage[]> {
    this.assertOpen();
    const r = this.rooms.get(room);
    if (!r) return [];
    return sliceRange(r.messages, r.bySeqOffset, range);
  }

  async listRooms(afterRoom: string, limit: number): Promise<RoomListing[]> {
    this.assertOpen();
    const out: RoomListing[] = [];
    for (const [name, r] of this.rooms) {
      const last = r.messages[r.messages.length - 1];
      if (name > afterRoom && last) {
        out.push({ room: name, lastSeq: last.seq, lastSentAtMs: last.sentAtMs });
      }
    }
    // A scan and sort per call: fine for a throwaway store's room count.
    out.sort((a, b) => (a.room < b.room ? -1 : 1));
    return out.slice(0, Math.max(0, limit));
  }

  async head(room: string): Promise<RoomHead> {
    this.assertOpen();
    // Reading an unknown room stores nothing (any client can name any room).
    const r = this.rooms.get(room);
    if (!r) return { epoch: roomEpoch(this.incarnation, room), lastSeq: 0, firstSeq: 0 };
    const first = r.messages[r.bySeqOffset];
    return { epoch: r.epoch, lastSeq: r.lastSeq, firstSeq: first ? first.seq : 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private room(name: string): MemoryRoom {
    let r = this.rooms.get(name);
    if (!r) {
      r = {
        epoch: roomEpoch(this.incarnation, name),
        messages: [],
        bySeqOffset: 0,
        byClientId: new Map(),
        lastSeq: 0,
      };
      this.rooms.set(name, r);
    }
    return r;
  }

  /** Drop messages beyond retention; compacts the array only now and then so trimming stays O(1) amortised. */
  private trim(r: MemoryRoom): void {
    while (r.messages.length - r.bySeqOffset > this.options.retention) {
      const dropped = r.messages[r.bySeqOffset];
      r.bySeqOffset++;
      if (dropped && dropped.clientMessageId !== "") r.byClientId.delete(dropped.clientMessageId);
    }
    if (r.bySeqOffset > 1024 && r.bySeqOffset * 2 > r.messages.length) {
      r.messages = r.messages.slice(r.bySeqOffset);
      r.bySeqOffset = 0;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("memory log is closed");
  }
}
