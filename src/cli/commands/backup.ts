import { Command, Option } from "commander";
import { DEFAULT_STORE } from "../../store/default-store.js";
import type { BackupProgress } from "../../store/sqlite-backup.js";
import { count } from "../output.js";

/**
 * `parley backup FILE`: copy the SQLite store to FILE with SQLite's online
 * backup API, while the server runs. Progress goes to stderr (one rewritten
 * line on a terminal, a line per tenth otherwise); the last line, on stdout,
 * names the file and what it holds.
 */
export function backupCommand(): Command {
  return new Command("backup")
    .description("copy the SQLite store to FILE while the server runs (SQLite's online backup API)")
    .argument("<file>", "where to write the copy (refused if it exists, unless --force)")
    .addOption(
      new Option("--store <spec>", "the store to copy: sqlite:PATH, as given to the server")
        .env("PARLEY_STORE")
        .default(DEFAULT_STORE),
    )
    .option("--force", "replace FILE if it exists")
    .action(async (file: string, opts: { store: string; force?: boolean }) => {
      const progress = progressPrinter(process.stderr);
      try {
        const source = sqlitePath(opts.store);
        // Loaded here: the other commands must not load SQLite.
        const { backupSqliteStore } = await import("../../store/sqlite-backup.js");
        const result = await backupSqliteStore(source, file, {
          overwrite: Boolean(opts.force),
          onProgress: progress.update,
        });
        progress.end();
        process.stdout.write(
          `backed up sqlite:${source} to ${file}: ${count(result.messages, "message")} in ${count(result.rooms, "room")} (${megabytes(result.bytes)})\n`,
        );
      } catch (error) {
        progress.end();
        // Not an RPC: print the message itself, not "unknown: ...".
        process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}

/** The file of a `sqlite:PATH` store, or an Error saying what backup copies. */
function sqlitePath(spec: string): string {
  if (!spec.startsWith("sqlite:"))
    throw new Error(
      `parley backup copies SQLite stores only (sqlite:PATH), not --store ${spec}; back up Redis with its own persistence (BGSAVE, or the AOF file), and memory: keeps nothing to copy`,
    );
  const path = spec.slice("sqlite:".length);
  if (path === "")
    throw new Error(`--store ${spec}: sqlite needs a file path, as in sqlite:./data/parley.db`);
  return path;
}

/** Progress on stderr: one line rewritten in place on a terminal, else a line per tenth done. */
function progressPrinter(err: NodeJS.WriteStream) {
  let lastTenth = -1;
  let drawn = false;
  const text = (p: BackupProgress) => {
    const percent = p.totalPages === 0 ? 100 : Math.floor((p.pagesDone / p.totalPages) * 100);
    return `copying: ${p.pagesDone}/${p.totalPages} pages (${percent}%)`;
  };
  return {
    update: (p: BackupProgress) => {
      if (err.isTTY) {
        err.write(`\r${text(p)}`);
        drawn = true;
        return;
      }
      const tenth = p.totalPages === 0 ? 10 : Math.floor((p.pagesDone / p.totalPages) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      err.write(`${text(p)}\n`);
    },
    end: () => {
      if (drawn) err.write("\n");
    },
  };
}

function megabytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
