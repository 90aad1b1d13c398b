// Time from SIGTERM to exit with N idle gRPC clients connected: grpcio
// (C-core) channels, which keep their connection after a GOAWAY, so only the
// server can end them. Runs Parley's build (npm start's entry) on the memory
// store; needs Debian's python3-grpcio (seen by /usr/bin/python3).
// Usage: npm run bench:shutdown-idle [-- --clients 100] [-- --runs 3] [-- --shutdown-ms 10000]
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "100" },
    runs: { type: "string", default: "3" },
    "shutdown-ms": { type: "string", default: "10000" },
  },
});
const clients = Number(values.clients);
const runs = Number(values.runs);
const shutdownMs = values["shutdown-ms"];

/** Resolves with the first stdout line of `child` that matches `pattern`. */
function lineMatching(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (d: Buffer) => {
      seen += d.toString();
      const match = seen.match(pattern);
      if (match) resolve(match);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code} before ${pattern}: ${seen}`)));
  });
}

async function oneRun(): Promise<number> {
  const server = spawn(
    process.execPath,
    ["dist/src/main.js", "--port", "0", "--host", "127.0.0.1", "--store", "memory:"].concat([
      "--shutdown-ms",
      shutdownMs,
    ]),
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const [, port] = await lineMatching(server, /"url":"http:\/\/127\.0\.0\.1:(\d+)"/);
  const python = spawn(
    "/usr/bin/python3",
    ["test/helpers/idle-grpc-channels.py", `127.0.0.1:${port}`, String(clients)],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  await lineMatching(python, new RegExp(`ready ${clients}`));
  await new Promise((resolve) => setTimeout(resolve, 2000)); // idle, as connected clients are
  const sent = performance.now();
  server.kill("SIGTERM");
  await once(server, "exit");
  const ms = performance.now() - sent;
  python.kill("SIGKILL");
  return ms;
}

const times: number[] = [];
for (let i = 0; i < runs; i++) times.push(await oneRun());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? 0;
console.log(
  `shutdown with ${clients} idle grpcio clients, --shutdown-ms ${shutdownMs}: ` +
    `exit after ${times.map((t) => (t / 1000).toFixed(2)).join(", ")} s; median ${(median / 1000).toFixed(2)} s`,
);
