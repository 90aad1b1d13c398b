import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { range } from "../../helpers/streams.js";
import { chatClient } from "../../helpers/test-server.js";

// Issue 19 point 6: the server held SQLite's exclusive lock, so
// `sqlite3 data/parley.db 'select count(*) from messages'` answered
// "database is locked" while it ran. Now it holds WAL with normal locking.

const children: SpawnedServer[] = [];
const dirs: string[] = [];
const readers: Database.Database[] = [];

afterEach(async () => {
  for (const db of readers.splice(0)) db.close();
  for (const s of children.splice(0)) {
    if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill("SIGKILL");
    await s.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("lets another process read the database while the server serves, without blocking its sends", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-readers-"));
  dirs.push(dir);
  const dbPath = join(dir, "parley.db");
  const server = await spawnServer([
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--store",
    `sqlite:${dbPath}`,
  ]);
  children.push(server);
  const client = chatClient(server.url);
  for (const i of range(1, 5)) await client.send({ room: "lobby", author: "ann", text: `m${i}` });
  await client.send({ room: "den", author: "bob", text: "elsewhere" });

  // What `sqlite3 data/parley.db 'select count(*) from messages'` does, from this process.
  const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
  readers.push(reader);
  const count = reader.prepare<[], { n: number }>("SELECT count(*) AS n FROM messages");
  expect(count.get()?.n).toBe(6);
  expect(
    reader
      .prepare("SELECT seq, author, text FROM messages WHERE room = 'lobby' ORDER BY seq")
      .all(),
  ).toEqual(range(1, 5).map((i) => ({ seq: i, author: "ann", text: `m${i}` })));

  // A reader holding a snapshot open does not stop the server writing (WAL),
  // and sees the new messages once it starts a new read.
  reader.exec("BEGIN");
  expect(count.get()?.n).toBe(6);
  const sent = await client.send({ room: "lobby", author: "ann", text: "during the read" });
  expect(sent.message?.seq).toBe(6n);
  expect(count.get()?.n).toBe(6);
  reader.exec("COMMIT");
  expect(count.get()?.n).toBe(7);

  // The server still answers from its own view of the file.
  const history = await client.history({ room: "lobby" });
  expect(history.messages.map((m) => m.text)).toEqual([
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "during the read",
  ]);
});
