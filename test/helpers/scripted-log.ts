import { MemoryGuestNames } from "../../src/store/guest-names.js";
import { MemoryPeople } from "../../src/store/memory-people.js";
import type {
  AppendResult,
  MessageLog,
  NewMessage,
  ReadRange,
  RoomHead,
  RoomListing,
  StoredMessage,
} from "../../src/store/message-log.js";

/** The store calls a test scripts. */
export type ScriptedKind = "append" | "read" | "head";

/** One store call, held until the test lets it run. */
export interface ScriptedCall {
  readonly kind: ScriptedKind;
  readonly room: string;
  /** The range asked for (read only). */
  readonly range?: ReadRange;
  /** The message to store (append only). */
  readonly message?: NewMessage;
  /** Run the call against the log's contents as they are now, and resolve it. */
  release(): void;
  /** Reject the call. */
  fail(error: unknown): void;
}

interface RoomLog {
  messages: StoredMessage[];
  lastSeq: number;
}

/**
 * A MessageLog whose calls resolve only when the test says so, so that a
 * test decides exactly how store calls interleave with live appends.
 *
 * append, read and head each leave a ScriptedCall pending; `next(kind)`
 * hands the oldest one to the test, which calls `release()` (the call then
 * runs against the contents at that moment, as a real store's would when it
 * gets to it) or `fail()`. `insert` and `trim` change the contents behind
 * the hub's back: another process writing to a shared store, and retention.
 */
export class ScriptedLog implements MessageLog {
  readonly guestNames = new MemoryGuestNames();
  readonly people = new MemoryPeople();
  readonly epoch: string;
  private readonly rooms = new Map<string, RoomLog>();
  private readonly pending: ScriptedCall[] = [];
  private readonly takers: { kind: ScriptedKind; take: (call: ScriptedCall) => void }[] = [];

  constructor(epoch = "epoch-1") {
    this.epoch = epoch;
  }

  append(room: string, message: NewMessage): Promise<AppendResult> {
    return this.hold({ kind: "append", room, message }, () => ({
      message: this.store(room, message),
      duplicate: false,
    }));
  }

  read(room: string, range: ReadRange): Promise<StoredMessage[]> {
    return this.hold({ kind: "read", room, range }, () => {
      const inRange = this.log(room).messages.filter(
        (m) => m.seq > range.afterSeq && (range.beforeSeq === 0 || m.seq < range.beforeSeq),
      );
      return range.newest ? inRange.slice(-range.limit) : inRange.slice(0, range.limit);
    });
  }

  head(room: string): Promise<RoomHead> {
    return this.hold({ kind: "head", room }, () => {
      const r = this.log(room);
      return { epoch: this.epoch, lastSeq: r.lastSeq, firstSeq: r.messages[0]?.seq ?? 0 };
    });
  }

  async listRooms(): Promise<RoomListing[]> {
    return [];
  }

  async close(): Promise<void> {}

  /** Store messages now, publishing nothing: what another server process sharing the store does. */
  insert(room: string, ...texts: string[]): StoredMessage[] {
    return texts.map((text) => this.store(room, { author: "other", text, clientMessageId: "" }));
  }

  /** Drop the messages below `firstSeq`, as retention does. */
  trim(room: string, firstSeq: number): void {
    const r = this.log(room);
    r.messages = r.messages.filter((m) => m.seq >= firstSeq);
  }

  /**
   * The oldest pending call of this kind, waiting for it to be made if there
   * is none yet; rejects after `timeoutMs` when the code under test never
   * makes it, so a missing call fails the test at once, naming the call.
   */
  next(kind: ScriptedKind, timeoutMs = 2000): Promise<ScriptedCall> {
    const i = this.pending.findIndex((c) => c.kind === kind);
    if (i >= 0) return Promise.resolve(this.pending.splice(i, 1)[0] as ScriptedCall);
    return new Promise((resolve, reject) => {
      const taker = {
        kind,
        take: (call: ScriptedCall) => {
          clearTimeout(timer);
          resolve(call);
        },
      };
      const timer = setTimeout(() => {
        this.takers.splice(this.takers.indexOf(taker), 1);
        reject(new Error(`no ${kind} call was made within ${timeoutMs} ms`));
      }, timeoutMs);
      this.takers.push(taker);
    });
  }

  /** The kinds of the calls made and not yet handed out by next(), oldest first. */
  get waiting(): ScriptedKind[] {
    return this.pending.map((c) => c.kind);
  }

  private hold<T>(
    what: { kind: ScriptedKind; room: string; range?: ReadRange; message?: NewMessage },
    run: () => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: ScriptedCall = {
        ...what,
        release: () => resolve(run()),
        fail: reject,
      };
      const t = this.takers.findIndex((w) => w.kind === what.kind);
      if (t >= 0) this.takers.splice(t, 1)[0]?.take(call);
      else this.pending.push(call);
    });
  }

  private store(room: string, message: NewMessage): StoredMessage {
    const r = this.log(room);
    const stored: StoredMessage = {
      room,
      seq: r.lastSeq + 1,
      id: `id-${r.lastSeq + 1}`,
      author: message.author,
      text: message.text,
      sentAtMs: 1_700_000_000_000 + r.lastSeq + 1,
      clientMessageId: message.clientMessageId,
    };
    r.messages.push(stored);
    r.lastSeq = stored.seq;
    return stored;
  }

  private log(room: string): RoomLog {
    let r = this.rooms.get(room);
    if (!r) {
      r = { messages: [], lastSeq: 0 };
      this.rooms.set(room, r);
    }
    return r;
  }
}
