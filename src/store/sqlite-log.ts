import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import Database from "better-sqlite3";
import { retryConflict } from "./idempotency.js";
import { newEpoch, newMessageId, roomEpoch } from "./ids.js";
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
import { SqliteGuestNames } from "./sqlite-guest-names.js";
import { type OwnerLock, takeOwnerLock } from "./sqlite-owner-lock.js";
import { SqlitePeople } from "./sqlite-people.js";
import { SQLITE_SCHEMA } from "./sqlite-schema.js";

interface PendingAppend {
  room: string;
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

interface RoomRow {
  epoch: string;
  last_seq: number;
  first_seq: number;
}

interface MessageRow {
  room: string;
  seq: number;
  id: string;
  author: string;
  text: string;
  sent_at: number;
  client_message_id: string | null;
}

/** SQLite engine options. */
export interface SqliteLogOptions extends LogOptions {
  /** The database file; its folder is created when missing. */
  path: string;
}

/**
 * The embedded default store: one SQLite file in WAL mode with
 * synchronous=FULL, so an append that resolved survives a crash of the
 * process and of the machine.
 *
 * Group commit: appends that arrive in the same turn of the event loop are
 * written in one transaction (one fsync), then resolved in call order. One
 * server process owns a file at a time, by a lock on `PATH.lock`
 * (sqlite-owner-lock.ts): opening a file another process owns throws an Error
 * naming the file and what to do instead. Other processes may read the
 * database meanwhile (normal locking), and back it up (`parley backup`).
 */
export class SqliteLog implements MessageLog {
  readonly guestNames: SqliteGuestNames;
  readonly people: SqlitePeople;
  private readonly db: Database.Database;
  private readonly ownerLock: OwnerLock | undefined;
  private readonly retention: number;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly stmt;
  /** This file's incarnation id, from which new rooms' epochs derive. */
  private readonly incarnation: string;

  constructor(options: SqliteLogOptions) {
    const onDisk = options.path !== ":memory:";
    if (onDisk) mkdirSync(dirname(options.path), { recursive: true });
    // One server owns a file: a second one would append under its own seqs and
    // its messages would never reach the first one's subscribers. The lock is
    // taken before the database is opened, so a refused server touches nothing.
    this.ownerLock = onDisk ? takeOwnerLock(options.path) : undefined;
    try {
      this.db = new Database(options.path);
    } catch (error) {
      this.ownerLock?.release();
      throw error;
    }
    try {
      // A reader recovering the WAL index, or a checkpoint by another process,
      // may hold a lock for a moment; wait briefly rather than fail an append
      // (set first: switching to WAL needs a lock too).
      this.db.pragma("busy_timeout = 1000");
      // Normal locking (the default): other processes may read the file and
      // take online backups while this one writes; in WAL mode they never block
      // the writer, nor it them.
      this.db.pragma("journal_mode = WAL");
      // FULL, not NORMAL: in WAL mode NORMAL skips the fsync at each commit, so
      // an acknowledged Send could be lost when the machine (not the process)
      // dies. FULL fsyncs the WAL once per group commit.
      this.db.pragma("synchronous = FULL");
      this.db.exec(SQLITE_SCHEMA);
      this.db
        .prepare("INSERT OR IGNORE INTO store (key, value) VALUES ('incarnation', ?)")
        .run(newEpoch());
    } catch (error) {
      this.db.close();
      this.ownerLock?.release();
      throw error;
    }
    this.retention = options.retention;
    this.guestNames = new SqliteGuestNames(this.db);
    this.people = new SqlitePeople(this.db);
    this.incarnation = (
      this.db.prepare("SELECT value FROM store WHERE key = 'incarnation'").get() as {
        value: string;
      }
    ).value;
    this.stmt = {
      room: this.db.prepare<[string], RoomRow>(
        "SELECT epoch, last_seq, first_seq FROM rooms WHERE name = ?",
      ),
      createRoom: this.db.prepare<[string, string]>(
        "INSERT INTO rooms (name, epoch, last_seq, first_seq) VALUES (?, ?, 0, 0)",
      ),
      setBounds: this.db.prepare<[number, number, string]>(
        "UPDATE rooms SET last_seq = ?, first_seq = ? WHERE name = ?",
      ),
      byClientId: this.db.prepare<[string, string], MessageRow>(
        "SELECT * FROM messages WHERE room = ? AND client_message_id = ?",
      ),
      insert: this.db.prepare<[string, number, string, string, string, number, string | null]>(
        "INSERT INTO messages (room, seq, id, author, text, sent_at, client_message_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      trim: this.db.prepare<[string, number]>("DELETE FROM messages WHERE room = ? AND seq < ?"),
      oldest: this.db.prepare<[string, number, number, number], MessageRow>(
        "SELECT * FROM messages WHERE room = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?",
      ),
      // The newest message is always retained, so the join finds one row per room.
      listRooms: this.db.prepare<
        [string, number],
        { name: string; last_seq: number; sent_at: number }
      >(
        "SELECT r.name, r.last_seq, m.sent_at FROM rooms r JOIN messages m ON m.room = r.name AND m.seq = r.last_seq WHERE r.name > ? AND r.last_seq > 0 ORDER BY r.name LIMIT ?",
      ),
      newest: this.db.prepare<[string, number, number, number], MessageRow>(
        "SELECT * FROM messages WHERE room = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?",
      ),
    };
  }

  append(room: string, message: NewMessage): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error("sqlite log is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ room, message, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async read(room: string, range: ReadRange): Promise<StoredMessage[]> {
    this.assertOpen();
    if (range.limit <= 0) return [];
    const before = range.beforeSeq > 0 ? range.beforeSeq : Number.MAX_SAFE_INTEGER;
    const stmt = range.newest ? this.stmt.newest : this.stmt.oldest;
    const rows = stmt.all(room, range.afterSeq, before, range.limit);
    if (range.newest) rows.reverse();
    return rows.map(toStored);
  }

  async listRooms(afterRoom: string, limit: number): Promise<RoomListing[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    return this.stmt.listRooms
      .all(afterRoom, limit)
      .map((r) => ({ room: r.name, lastSeq: r.last_seq, lastSentAtMs: r.sent_at }));
  }

  async head(room: string): Promise<RoomHead> {
    this.assertOpen();
    // Reading an unknown room stores nothing (any client can name any room).
    const row = this.stmt.room.get(room);
    if (!row) return { epoch: roomEpoch(this.incarnation, room), lastSeq: 0, firstSeq: 0 };
    return { epoch: row.epoch, lastSeq: row.last_seq, firstSeq: row.first_seq };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
    this.ownerLock?.release();
  }

  /** Write every pending append in one transaction; on failure, retry each alone so one bad append fails only itself. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const settle = (p: (typeof batch)[number], result: AppendResult | ConnectError) => {
      if (result instanceof ConnectError) p.reject(result);
      else p.resolve(result);
    };
    let results: (AppendResult | ConnectError)[];
    try {
      results = this.db.transaction(() => batch.map((p) => this.appendNow(p.room, p.message)))();
    } catch {
      for (const p of batch) {
        try {
          settle(p, this.db.transaction(() => this.appendNow(p.room, p.message))());
        } catch (error) {
          p.reject(error);
        }
      }
      return;
    }
    batch.forEach((p, i) => {
      settle(p, results[i] as AppendResult | ConnectError);
    });
  }

  /**
   * Store one message, or return the conflict of a reused key (returned, not
   * thrown: a throw would roll back the whole batch and make it retry one by one).
   */
  private appendNow(room: string, message: NewMessage): AppendResult | ConnectError {
    const cid = message.clientMessageId === "" ? null : message.clientMessageId;
    if (cid !== null) {
      const row = this.stmt.byClientId.get(room, cid);
      if (row) {
        const original = toStored(row);
        return retryConflict(original, message) ?? { message: original, duplicate: true };
      }
    }
    const head = this.roomRow(room);
    const stored: StoredMessage = {
      room,
      seq: head.last_seq + 1,
      id: newMessageId(),
      author: message.author,
      text: message.text,
      sentAtMs: Date.now(),
      clientMessageId: message.clientMessageId,
    };
    this.stmt.insert.run(
      room,
      stored.seq,
      stored.id,
      stored.author,
      stored.text,
      stored.sentAtMs,
      cid,
    );
    // The oldest retained seq never moves back, even if retention was raised
    // since the log was trimmed.
    const floor = Math.max(1, stored.seq - this.retention + 1);
    const firstSeq = head.first_seq > 0 ? Math.max(head.first_seq, floor) : floor;
    if (firstSeq > head.first_seq && head.first_seq > 0) this.stmt.trim.run(room, firstSeq);
    this.stmt.setBounds.run(stored.seq, firstSeq, room);
    return { message: stored, duplicate: false };
  }

  private roomRow(room: string): RoomRow {
    const row = this.stmt.room.get(room);
    if (row) return row;
    const created = { epoch: roomEpoch(this.incarnation, room), last_seq: 0, first_seq: 0 };
    this.stmt.createRoom.run(room, created.epoch);
    return created;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("sqlite log is closed");
  }
}

function toStored(row: MessageRow): StoredMessage {
  return {
    room: row.room,
    seq: row.seq,
    id: row.id,
    author: row.author,
    text: row.text,
    sentAtMs: row.sent_at,
    clientMessageId: row.client_message_id ?? "",
  };
}
