import Database from "better-sqlite3";
import type { AppendResult, NewMessage, RoomHead, StoredMessage } from "./message-log.js";

/** One write, as the log's thread sends it to the writer thread. */
export type WriteOp =
  | { kind: "append"; room: string; message: NewMessage; id: string; epoch: string }
  | { kind: "create"; room: string; epoch: string };

/** The outcome of one write: an append's result, a created (or found) room's head, or why it failed. */
export type WriteOutcome =
  | { ok: true; append: AppendResult }
  | { ok: true; head: RoomHead }
  | { ok: false; error: string };

interface RoomRow {
  epoch: string;
  last_seq: number;
  first_seq: number;
}

export interface MessageRow {
  room: string;
  seq: number;
  id: string;
  author: string;
  text: string;
  sent_at: number;
  client_message_id: string | null;
}

/** A stored row as the log's interface shapes it. */
export function toStored(row: MessageRow): StoredMessage {
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

/**
 * Every write to the SQLite file, on one connection: appends (seq
 * assignment, idempotency, retention) and room creation. Each batch is one
 * transaction, so one fsync covers it (synchronous=FULL). It runs on a
 * thread of its own (sqlite-writer-thread.ts) so that the fsync never stops
 * the event loop that serves calls.
 */
export class SqliteWriter {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(
    path: string,
    private readonly retention: number,
  ) {
    this.db = new Database(path);
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
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
    };
  }

  /** Apply a batch in one transaction; when it fails, each write alone, so one bad write fails only itself. */
  apply(ops: readonly WriteOp[]): WriteOutcome[] {
    try {
      return this.db.transaction(() => ops.map((op) => this.applyOne(op)))();
    } catch {
      return ops.map((op) => {
        try {
          return this.db.transaction(() => this.applyOne(op))();
        } catch (error) {
          return { ok: false, error: error instanceof Error ? error.message : String(error) };
        }
      });
    }
  }

  close(): void {
    this.db.close();
  }

  private applyOne(op: WriteOp): WriteOutcome {
    if (op.kind === "create") {
      const row = this.roomRow(op.room, op.epoch);
      return {
        ok: true,
        head: { epoch: row.epoch, lastSeq: row.last_seq, firstSeq: row.first_seq },
      };
    }
    return { ok: true, append: this.append(op.room, op.message, op.id, op.epoch) };
  }

  private append(room: string, message: NewMessage, id: string, epoch: string): AppendResult {
    const cid = message.clientMessageId === "" ? null : message.clientMessageId;
    if (cid !== null) {
      const original = this.stmt.byClientId.get(room, cid);
      if (original) return { message: toStored(original), duplicate: true };
    }
    const head = this.roomRow(room, epoch);
    const stored: StoredMessage = {
      room,
      seq: head.last_seq + 1,
      id,
      author: message.author,
      text: message.text,
      sentAtMs: Date.now(),
      clientMessageId: message.clientMessageId,
    };
    this.stmt.insert.run(room, stored.seq, id, stored.author, stored.text, stored.sentAtMs, cid);
    // The oldest retained seq never moves back, even if retention was raised
    // since the log was trimmed.
    const floor = Math.max(1, stored.seq - this.retention + 1);
    const firstSeq = head.first_seq > 0 ? Math.max(head.first_seq, floor) : floor;
    if (firstSeq > head.first_seq && head.first_seq > 0) this.stmt.trim.run(room, firstSeq);
    this.stmt.setBounds.run(stored.seq, firstSeq, room);
    return { message: stored, duplicate: false };
  }

  /** The room's row, created with `epoch` when the room is new. */
  private roomRow(room: string, epoch: string): RoomRow {
    const row = this.stmt.room.get(room);
    if (row) return row;
    this.stmt.createRoom.run(room, epoch);
    return { epoch, last_seq: 0, first_seq: 0 };
  }
}
