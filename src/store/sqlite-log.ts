import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { newEpoch, newMessageId } from "./ids.js";
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
import { SQLITE_SCHEMA } from "./sqlite-schema.js";
import { type MessageRow, toStored, type WriteOp, type WriteOutcome } from "./sqlite-writer.js";
import type { ToWriter, WriterThreadData } from "./sqlite-writer-thread.js";

interface PendingWrite {
  op: WriteOp;
  resolve: (outcome: WriteOutcome & { ok: true }) => void;
  reject: (error: Error) => void;
}

interface RoomRow {
  epoch: string;
  last_seq: number;
  first_seq: number;
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
 * Writes go to a writer thread (sqlite-writer.ts) with its own connection,
 * so the fsync of a commit never stops this thread's event loop. Group
 * commit: writes that arrive while a batch is being committed form the next
 * batch, one transaction and one fsync for all of them; results come back in
 * call order. Reads use this thread's connection, which sees every committed
 * write (WAL readers never wait for the writer). One server process owns a
 * file at a time.
 */
export class SqliteLog implements MessageLog {
  private readonly db: Database.Database;
  private readonly writer: Worker;
  private pending: PendingWrite[] = [];
  private inFlight: PendingWrite[] | undefined;
  private flushScheduled = false;
  /** Set when the writer thread failed: every write from then on fails with it. */
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;
  private writerExited = false;
  private readonly stmt;

  constructor(options: SqliteLogOptions) {
    if (options.path === ":memory:") {
      throw new Error(
        "sqlite: the store needs a file (its writer thread opens it too), not :memory:",
      );
    }
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SQLITE_SCHEMA);
    // Every write belongs to the writer thread; this connection only reads.
    this.db.pragma("query_only = true");
    this.stmt = {
      room: this.db.prepare<[string], RoomRow>(
        "SELECT epoch, last_seq, first_seq FROM rooms WHERE name = ?",
      ),
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
    this.writer = startWriterThread({ path: options.path, retention: options.retention });
    this.writer.on("message", (outcomes: WriteOutcome[]) => this.settle(outcomes));
    this.writer.on("error", (error) => this.fail(error));
    this.writer.on("exit", (code) => {
      this.writerExited = true;
      if (this.closing === undefined) this.fail(new Error(`sqlite writer thread exited (${code})`));
    });
  }

  async append(room: string, message: NewMessage): Promise<AppendResult> {
    const outcome = await this.write({
      kind: "append",
      room,
      message,
      id: newMessageId(),
      epoch: newEpoch(),
    });
    if (!("append" in outcome)) throw new Error("sqlite writer answered an append with a head");
    return outcome.append;
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
    const row = this.stmt.room.get(room);
    if (row) return { epoch: row.epoch, lastSeq: row.last_seq, firstSeq: row.first_seq };
    const outcome = await this.write({ kind: "create", room, epoch: newEpoch() });
    if (!("head" in outcome))
      throw new Error("sqlite writer answered a room creation with an append");
    return outcome.head;
  }

  /** Commit every write already asked for, stop the writer thread, close the file. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.inFlight !== undefined || this.pending.length > 0) {
        this.flush();
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!this.writerExited) {
        const exited = new Promise((resolve) => this.writer.once("exit", resolve));
        this.writer.postMessage({ close: true } satisfies ToWriter);
        await exited;
      }
      this.db.close();
    })();
    return this.closing;
  }

  private write(op: WriteOp): Promise<WriteOutcome & { ok: true }> {
    if (this.closing !== undefined) return Promise.reject(new Error("sqlite log is closed"));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      // Writes of the same event-loop turn go in one batch; while a batch is
      // being committed the next one grows, and is sent when it returns.
      if (!this.flushScheduled && this.inFlight === undefined) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.inFlight !== undefined || this.pending.length === 0 || this.broken) return;
    this.inFlight = this.pending;
    this.pending = [];
    this.writer.postMessage({ ops: this.inFlight.map((p) => p.op) } satisfies ToWriter);
  }

  private settle(outcomes: WriteOutcome[]): void {
    const batch = this.inFlight ?? [];
    this.inFlight = undefined;
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) p.resolve(outcome);
      else p.reject(new Error(outcome?.error ?? "sqlite writer returned no outcome"));
    });
    this.flush();
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const p of [...(this.inFlight ?? []), ...this.pending]) p.reject(error);
    this.inFlight = undefined;
    this.pending = [];
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error("sqlite log is closed");
  }
}

/**
 * Start the writer thread from the same kind of file as this one: compiled
 * JavaScript runs the .js next to it. TypeScript source (tsx in development,
 * vitest in tests) has no loader in a new thread, so a two-line bootstrap
 * registers tsx there first and then imports the .ts entry.
 */
function startWriterThread(data: WriterThreadData): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./sqlite-writer-thread.js", import.meta.url), { workerData: data });
  }
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./sqlite-writer-thread.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
