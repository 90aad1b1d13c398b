// Durable append: how many Send calls per second a server acknowledges with
// 64 concurrent senders, on the SQLite store (WAL, synchronous=FULL, group
// commit) and on the memory store, each server in its own process. Prints
// the median of several runs and the ratio SQLite / memory measured in this
// run. Usage: npm run bench:append [-- --seconds 5 --runs 3 --senders 64]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnServer } from "../test/helpers/spawn-server.js";
import { chatClient } from "../test/helpers/test-server.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    runs: { type: "string", default: "3" },
    senders: { type: "string", default: "64" },
    connections: { type: "string", default: "4" },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const senders = Number(values.senders);
const connections = Number(values.connections);

async function measure(store: string): Promise<number> {
  const server = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--store", store]);
  try {
    const clients = Array.from({ length: connections }, () => chatClient(server.url, "connect-h2"));
    let acked = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: senders }, async (_, s) => {
        const client = clients[s % connections] ?? clients[0];
        for (let i = 0; Date.now() < until; i++) {
          await client?.send({
            room: `bench-${s % 8}`,
            author: `s${s}`,
            text: `message ${i} from ${s}`,
          });
          acked++;
        }
      }),
    );
    return acked / seconds;
  } finally {
    server.process.kill("SIGTERM");
    await server.exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const dir = mkdtempSync(join(tmpdir(), "parley-bench-"));
try {
  const results: Record<string, number[]> = { memory: [], sqlite: [] };
  for (let r = 0; r < runs; r++) {
    results.memory?.push(await measure("memory:"));
    results.sqlite?.push(await measure(`sqlite:${join(dir, `run-${r}.db`)}`));
  }
  const mem = median(results.memory ?? []);
  const sql = median(results.sqlite ?? []);
  console.log(
    `durable append: ${senders} senders over ${connections} HTTP/2 connections, ${seconds} s x ${runs} runs`,
  );
  console.log(
    `  memory: ${mem.toFixed(0)} acknowledged Sends/s (runs: ${results.memory?.map((x) => x.toFixed(0)).join(", ")})`,
  );
  console.log(
    `  sqlite: ${sql.toFixed(0)} acknowledged Sends/s (runs: ${results.sqlite?.map((x) => x.toFixed(0)).join(", ")})`,
  );
  console.log(`  sqlite / memory: ${(sql / mem).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
