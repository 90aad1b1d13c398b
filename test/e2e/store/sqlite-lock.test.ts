import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";

// Issue 11 point 10: a second server on the same SQLite file used to be
// accepted silently, and its messages never reached the first one's subscribers.
// Issue 19 point 6: the refusal is now a lock on PATH.lock, not SQLite's
// exclusive lock on the database (which also shut out every reader).

const children: SpawnedServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of children.splice(0)) {
    if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill("SIGKILL");
    await s.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function flags(dbPath: string): string[] {
  return ["--port", "0", "--host", "127.0.0.1", "--store", `sqlite:${dbPath}`];
}

async function start(dbPath: string): Promise<SpawnedServer> {
  const server = await spawnServer(flags(dbPath));
  children.push(server);
  return server;
}

/** Start a server expected to fail before it listens; resolves with its exit code and output. */
async function startRefused(dbPath: string): Promise<{ code: number | string; output: string }> {
  const error = await spawnServer(flags(dbPath)).then(
    (s) => {
      children.push(s);
      throw new Error(`second server started on ${s.url}`);
    },
    (e: unknown) => e as Error,
  );
  const code = /server exited \((\w+)\) before listening/.exec(error.message)?.[1];
  return { code: code === undefined ? "none" : Number(code), output: error.message };
}

it("refuses a second server on the same file, naming it; the first serves on; after kill -9 a new one starts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-lock-"));
  dirs.push(dir);
  const dbPath = join(dir, "rooms.db");

  const first = await start(dbPath);
  const firstClient = chatClient(first.url);
  await firstClient.send({ room: "lobby", author: "ann", text: "one" });

  const refused = await startRefused(dbPath);
  expect(refused.code).toBe(1);
  expect(refused.output).toContain(
    `parley could not start: --store sqlite:${dbPath}: the database is in use by another Parley server ` +
      `(it holds the lock on ${dbPath}.lock). Stop that server first, or give this one another file ` +
      "(--store sqlite:OTHER.db); for several servers sharing rooms use --store redis://host:port. " +
      "Reading the file (sqlite3, parley backup) needs no server stopped.\n",
  );

  const second = await firstClient.send({ room: "lobby", author: "ann", text: "two" });
  expect(second.message?.seq).toBe(2n);

  first.process.kill("SIGKILL");
  expect(await first.exited).toBe("SIGKILL");

  // The lock is the kernel's: it went with the process, no stale lock is left,
  // and a new server starts at once, with the lock file still there.
  expect(existsSync(`${dbPath}.lock`)).toBe(true);
  const next = await start(dbPath);
  const nextClient = chatClient(next.url);
  const third = await nextClient.send({ room: "lobby", author: "ann", text: "three" });
  expect(third.message?.seq).toBe(3n);
  const history = await nextClient.history({ room: "lobby" });
  expect(history.messages.map((m) => m.text)).toEqual(["one", "two", "three"]);
});
