import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { ownerLockPath } from "./sqlite-owner-lock.js";

/** Pages copied per step of the backup; the progress callback runs between steps. */
const PAGES_PER_STEP = 256;

/** How far a backup has got. */
export interface BackupProgress {
  pagesDone: number;
  totalPages: number;
}

/** What a finished backup holds. */
export interface BackupResult {
  /** Messages in the copy (counted in the copy itself). */
  messages: number;
  /** Rooms with at least one message ever, in the copy. */
  rooms: number;
  /** The copy's size in bytes. */
  bytes: number;
}

/** Options of {@link backupSqliteStore}. */
export interface BackupOptions {
  /** Replace `target` when it exists (otherwise that is an error). */
  overwrite: boolean;
  /** Called after each step of the copy, and once at the end. */
  onProgress?: (progress: BackupProgress) => void;
}

/**
 * Copy the SQLite store at `source` to `target` with SQLite's online backup
 * API, while a server may be running and writing to it. The copy is the
 * database as of the moment the copy began (every message acknowledged
 * before then is in it), a single self-contained file (rollback journal, not
 * WAL), checked with `PRAGMA quick_check`. It is written beside `target`
 * under a temporary name and moved into place only when complete, so a
 * failed backup leaves no partial file at `target`.
 *
 * Throws an Error naming the file and the problem: no database at `source`,
 * not a Parley database, `target` exists (without `overwrite`), is the store
 * itself, or its folder is missing.
 */
export async function backupSqliteStore(
  source: string,
  target: string,
  options: BackupOptions,
): Promise<BackupResult> {
  checkPaths(source, target, options.overwrite);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    const snapshot = await copy(source, partial, options.onProgress);
    const result = finishCopy(partial);
    if (result.messages !== snapshot.messages)
      throw new Error(
        `${target}: the copy holds ${result.messages} messages but the database held ${snapshot.messages}; the backup was not kept`,
      );
    publish(partial, target, options.overwrite);
    return result;
  } finally {
    rmSync(partial, { force: true });
  }
}

function checkPaths(source: string, target: string, overwrite: boolean): void {
  if (!existsSync(source))
    throw new Error(
      `--store sqlite:${source}: no database there (a server creates it at its first start); name the server's file with --store sqlite:PATH`,
    );
  if (statSync(source).isDirectory())
    throw new Error(`--store sqlite:${source}: is a folder, not a database file`);
  const own = [source, `${source}-wal`, `${source}-shm`, ownerLockPath(source)].map((p) =>
    resolve(p),
  );
  if (own.includes(resolve(target)))
    throw new Error(`${target}: is the store's own file; back up to another file`);
  if (!existsSync(dirname(resolve(target))))
    throw new Error(`${target}: the folder ${dirname(target)} does not exist`);
  if (existsSync(target)) {
    if (statSync(target).isDirectory())
      throw new Error(`${target}: is a folder; give the backup a file name`);
    if (!overwrite) throw new Error(`${target}: already exists; pass --force to replace it`);
  }
}

/** Open the store for reading, pin one snapshot and copy it page by page into `partial`. */
async function copy(
  source: string,
  partial: string,
  onProgress: BackupOptions["onProgress"],
): Promise<{ messages: number }> {
  // Read-write, not readonly: a read-only connection cannot open a WAL
  // database whose -shm file is gone (the server stopped cleanly). Nothing
  // here writes to it.
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    // One read transaction across every step: the backup then copies one
    // snapshot and never restarts. Without it, SQLite restarts an online
    // backup whenever another process commits between two steps, which a
    // busy server does all the time. In WAL mode this reader does not block
    // the server's writes.
    db.exec("BEGIN");
    const messages = countMessages(db, source);
    const done = await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.({ pagesDone: totalPages - remainingPages, totalPages });
        return PAGES_PER_STEP;
      },
    });
    onProgress?.({ pagesDone: done.totalPages, totalPages: done.totalPages });
    db.exec("COMMIT");
    return { messages };
  } catch (error) {
    throw explain(error, source);
  } finally {
    db.close();
  }
}

/** The message count, which also proves `source` is a Parley database. */
function countMessages(db: Database.Database, source: string): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'messages'")
    .get();
  if (table === undefined)
    throw new Error(
      `--store sqlite:${source}: a SQLite database, but not Parley's (no messages table)`,
    );
  return (db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
}

/** Make the copy one self-contained file, check it, count what it holds and flush it to disk. */
function finishCopy(partial: string): BackupResult {
  const db = new Database(partial, { fileMustExist: true });
  let result: Omit<BackupResult, "bytes">;
  try {
    // The copied header says WAL; a backup should need no -wal/-shm beside it.
    db.pragma("journal_mode = DELETE");
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(`the copy fails SQLite's quick_check: ${String(check)}`);
    result = db
      .prepare(
        "SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM rooms WHERE last_seq > 0) AS rooms",
      )
      .get() as Omit<BackupResult, "bytes">;
  } finally {
    db.close();
  }
  const fd = openSync(partial, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { ...result, bytes: statSync(partial).size };
}

/** Move the finished copy into place: never over an existing file unless asked. */
function publish(partial: string, target: string, overwrite: boolean): void {
  if (overwrite) renameSync(partial, target);
  else {
    try {
      // link fails if target appeared since the check: no race replaces it.
      linkSync(partial, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST")
        throw new Error(`${target}: already exists; pass --force to replace it`);
      throw error;
    }
  }
  const dir = openSync(dirname(resolve(target)), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function explain(error: unknown, source: string): unknown {
  if (error instanceof Database.SqliteError && error.code === "SQLITE_NOTADB")
    return new Error(`--store sqlite:${source}: not a SQLite database`, { cause: error });
  return error;
}
