import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../../helpers/run-cli.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { range } from "../../helpers/streams.js";
import { chatClient } from "../../helpers/test-server.js";

// Issue 19 point 6: no online backup was possible while the server held
// SQLite's exclusive lock. `parley backup FILE` copies the store with SQLite's
// online backup API while a server runs and writes.

interface Acked {
  room: string;
  seq: number;
  id: string;
  text: string;
}

const children: SpawnedServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of children.splice(0)) {
    if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill("SIGKILL");
    await s.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-backup-"));
  dirs.push(dir);
  return dir;
}

async function start(dbPath: string): Promise<SpawnedServer> {
  const server = await spawnServer([
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--store",
    `sqlite:${dbPath}`,
    "--user-send-rate",
    "1000000",
    "--user-send-burst",
    "1000000",
  ]);
  children.push(server);
  return server;
}

/** Every message row of a SQLite file, opened read-only, per room in seq order. */
function roomsIn(file: string): Map<string, { seq: number; id: string; text: string }[]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare("SELECT room, seq, id, text FROM messages ORDER BY room, seq")
      .all() as (Acked & { room: string })[];
    const rooms = new Map<string, { seq: number; id: string; text: string }[]>();
    for (const { room, ...m } of rows) rooms.set(room, [...(rooms.get(room) ?? []), m]);
    return rooms;
  } finally {
    db.close();
  }
}

const ROOMS = ["r0", "r1", "r2", "r3"];

it("backs up under load: the copy opens and holds every message acknowledged before it began, gapless per room", async () => {
  const dir = tempDir();
  const dbPath = join(dir, "parley.db");
  const backupPath = join(dir, "copy.db");
  const server = await start(dbPath);
  const client = chatClient(server.url);
  const acked: Acked[] = [];
  const record = (m: { room: string; seq: bigint; id: string; text: string } | undefined) => {
    if (m) acked.push({ room: m.room, seq: Number(m.seq), id: m.id, text: m.text });
  };

  // Some megabytes first, so the copy takes many steps while the server writes.
  const bulk = "€".repeat(480);
  for (const batch of range(0, 19)) {
    const sent = await Promise.all(
      range(1, 150).map((i) =>
        client.send({
          room: ROOMS[i % 4] as string,
          author: "bulk",
          text: `${batch}.${i} ${bulk}`,
        }),
      ),
    );
    for (const s of sent) record(s.message);
  }

  // Four senders, one per room, each sending as fast as it is answered.
  let sending = true;
  const senders = ROOMS.map(async (room) => {
    for (let i = 0; sending; i++) {
      const res = await client.send({ room, author: "live", text: `live ${i}` });
      record(res.message);
    }
  });
  while (acked.length < 3000 + 40) await new Promise((r) => setTimeout(r, 10));

  const before = [...acked];
  const run = await runCli(["backup", backupPath, "--store", `sqlite:${dbPath}`]);
  const duringBackup = acked.length - before.length;
  sending = false;
  await Promise.all(senders);

  expect(run.stderr).not.toContain("error");
  expect(run.code).toBe(0);
  // The server kept answering sends while the copy was made.
  expect(duringBackup).toBeGreaterThan(0);

  // Progress on stderr (not a terminal: a line per tenth), ending at 100%.
  const progress = run.stderr.trim().split("\n");
  for (const line of progress) expect(line).toMatch(/^copying: \d+\/\d+ pages \(\d+%\)$/);
  const total = /\/(\d+) pages/.exec(progress[0] ?? "")?.[1];
  expect(Number(total)).toBeGreaterThan(1000);
  expect(progress[0]).toBe(`copying: 0/${total} pages (0%)`);
  expect(progress.at(-1)).toBe(`copying: ${total}/${total} pages (100%)`);
  expect(progress.length).toBeGreaterThanOrEqual(5);
  // One snapshot, copied once: SQLite restarts a backup whose source another
  // process changed between steps, which would show as pages going back.
  const done = progress.map((line) => Number(/: (\d+)\//.exec(line)?.[1]));
  expect(done).toEqual([...done].sort((a, b) => a - b));
  expect(new Set(done).size).toBe(done.length);

  // The copy is one self-contained file: it opens read-only with nothing beside it.
  expect(existsSync(`${backupPath}-wal`)).toBe(false);
  const copy = roomsIn(backupPath);
  const inCopy = [...copy.values()].reduce((n, ms) => n + ms.length, 0);
  expect(run.stdout).toMatch(
    new RegExp(
      `^backed up sqlite:${dbPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} to ${backupPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${inCopy} messages in 4 rooms \\(\\d+\\.\\d MB\\)\\n$`,
    ),
  );
  expect(inCopy).toBeGreaterThanOrEqual(before.length);
  expect(inCopy).toBeLessThanOrEqual(acked.length);

  expect([...copy.keys()].sort()).toEqual(ROOMS);
  for (const room of ROOMS) {
    const messages = copy.get(room) ?? [];
    // Gapless: 1, 2, 3 … with no hole, as the server numbered them.
    expect(messages.map((m) => m.seq)).toEqual(range(1, messages.length));
    // Every message acknowledged before the backup began is there, unchanged.
    const bySeq = new Map(messages.map((m) => [m.seq, m]));
    for (const a of before.filter((m) => m.room === room))
      expect(bySeq.get(a.seq)).toEqual({ seq: a.seq, id: a.id, text: a.text });
    // And whatever the copy holds beyond that was acknowledged too.
    const ackedIds = new Map(acked.filter((m) => m.room === room).map((m) => [m.seq, m.id]));
    for (const m of messages) expect(ackedIds.get(m.seq)).toBe(m.id);
  }
}, 60_000);

it("refuses to overwrite without --force, replaces with it, and copies a stopped server's file", async () => {
  const dir = tempDir();
  const dbPath = join(dir, "parley.db");
  const backupPath = join(dir, "copy.db");
  const server = await start(dbPath);
  const client = chatClient(server.url);
  await client.send({ room: "lobby", author: "ann", text: "one" });

  writeFileSync(backupPath, "keep me");
  const refused = await runCli(["backup", backupPath, "--store", `sqlite:${dbPath}`]);
  expect(refused).toEqual({
    code: 1,
    stdout: "",
    stderr: `error: ${backupPath}: already exists; pass --force to replace it\n`,
  });
  expect(readFileSync(backupPath, "utf8")).toBe("keep me");

  const forced = await runCli(["backup", backupPath, "--store", `sqlite:${dbPath}`, "--force"]);
  expect(forced.code).toBe(0);
  expect(forced.stdout).toBe(
    `backed up sqlite:${dbPath} to ${backupPath}: 1 message in 1 room (${Math.ceil(statSync(backupPath).size / 1024)} KB)\n`,
  );
  expect(
    roomsIn(backupPath)
      .get("lobby")
      ?.map((m) => m.text),
  ).toEqual(["one"]);

  // Stopped cleanly, the server leaves no -wal or -shm file; the copy still works.
  await client.send({ room: "lobby", author: "ann", text: "two" });
  server.process.kill("SIGTERM");
  expect(await server.exited).toBe(0);
  const stopped = await runCli(["backup", backupPath, "--store", `sqlite:${dbPath}`, "--force"]);
  expect(stopped.code).toBe(0);
  expect(
    roomsIn(backupPath)
      .get("lobby")
      ?.map((m) => m.text),
  ).toEqual(["one", "two"]);
}, 60_000);

it("names a missing database, a store that is not SQLite, and a FILE that is the store itself", async () => {
  const dir = tempDir();
  const missing = join(dir, "nope.db");
  const target = join(dir, "never.db");
  const noDb = await runCli(["backup", target, "--store", `sqlite:${missing}`]);
  expect(noDb).toEqual({
    code: 1,
    stdout: "",
    stderr: `error: --store sqlite:${missing}: no database there (a server creates it at its first start); name the server's file with --store sqlite:PATH\n`,
  });
  expect(existsSync(target)).toBe(false);
  expect(existsSync(missing)).toBe(false);

  const notSqlite = await runCli(["backup", target, "--store", "memory:"]);
  expect(notSqlite).toEqual({
    code: 1,
    stdout: "",
    stderr:
      "error: parley backup copies SQLite stores only (sqlite:PATH), not --store memory:; back up Redis with its own persistence (BGSAVE, or the AOF file), and memory: keeps nothing to copy\n",
  });

  const dbPath = join(dir, "parley.db");
  writeFileSync(dbPath, "not touched");
  const itself = await runCli(["backup", dbPath, "--store", `sqlite:${dbPath}`, "--force"]);
  expect(itself).toEqual({
    code: 1,
    stdout: "",
    stderr: `error: ${dbPath}: is the store's own file; back up to another file\n`,
  });
  expect(readFileSync(dbPath, "utf8")).toBe("not touched");

  const junk = join(dir, "junk.db");
  writeFileSync(junk, "this is not a database, just some text long enough to have a header");
  const notADb = await runCli(["backup", target, "--store", `sqlite:${junk}`]);
  expect(notADb).toEqual({
    code: 1,
    stdout: "",
    stderr: `error: --store sqlite:${junk}: not a SQLite database\n`,
  });
  expect(existsSync(target)).toBe(false);
  expect(readdirSync(dir).sort()).toEqual(["junk.db", "parley.db"]);
}, 60_000);
