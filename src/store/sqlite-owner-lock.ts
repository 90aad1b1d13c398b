import Database from "better-sqlite3";

/** The file beside a SQLite store that says which process serves it: `PATH.lock`. */
export function ownerLockPath(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** A held owner lock; `release` drops it (the kernel also drops it when the process dies). */
export interface OwnerLock {
  readonly path: string;
  release(): void;
}

/**
 * Take the lock that makes one server process the owner of the SQLite store
 * at `dbPath`, or throw an Error naming the file and what to do.
 *
 * The database itself runs with normal locking so that other processes can
 * read it and back it up while the server writes; the one-writer rule lives
 * in this second, tiny SQLite database beside it, held in exclusive locking
 * mode for the life of the process. Why this and not a pid file: the lock is
 * an OS file lock (fcntl, taken by SQLite's unix VFS), so the kernel drops it
 * when the process dies, even by kill -9, and there is no stale file to judge
 * by a pid that may have been reused. SQLite also tracks its locks per inode
 * inside one process, so a second store opened on the same file in the same
 * process is refused too (bare fcntl locks would let it through). Node has no
 * flock of its own; better-sqlite3 is already here.
 *
 * The lock file is never deleted: a process waiting on the old inode while a
 * new one was created would take a lock nobody else checks.
 */
export function takeOwnerLock(dbPath: string): OwnerLock {
  const path = ownerLockPath(dbPath);
  const db = new Database(path);
  try {
    // Set first: every later statement may need the lock. A server restarted
    // at once may start before its predecessor has closed.
    db.pragma("busy_timeout = 2000");
    db.pragma("locking_mode = EXCLUSIVE");
    // No journal file beside it (better-sqlite3's defaults do not honour OFF):
    // the file never holds data, it only carries the lock.
    db.pragma("journal_mode = MEMORY");
    // In exclusive locking mode a write lock, once taken, is kept until close.
    db.exec("BEGIN EXCLUSIVE; COMMIT");
  } catch (error) {
    db.close();
    if (error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY"))
      // The cause ("database is locked") would only confuse: the message says it all.
      throw new Error(inUseMessage(dbPath, path));
    throw error;
  }
  return {
    path,
    release: () => {
      if (db.open) db.close();
    },
  };
}

function inUseMessage(dbPath: string, lockPath: string): string {
  return (
    `--store sqlite:${dbPath}: the database is in use by another Parley server (it holds the lock on ${lockPath}). ` +
    "Stop that server first, or give this one another file (--store sqlite:OTHER.db); " +
    "for several servers sharing rooms use --store redis://host:port. " +
    "Reading the file (sqlite3, parley backup) needs no server stopped."
  );
}
