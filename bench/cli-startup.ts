// Wall time of `parley send` from a shell, server on loopback: what a person
// (or a script calling it in a loop) waits per message. Runs each CLI build
// given (default: this checkout's dist/) and `node -e ''`, Node's own start,
// as the floor, interleaved so that load on the machine falls on all alike.
// Usage: npm run bench:cli [-- --runs 15] [-- --cli path/to/parley.js ...]
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    cli: { type: "string", multiple: true, default: ["dist/cli/parley.js"] },
  },
});
const runs = Number(values.runs);

/** Resolves with the port the server logs once it listens. */
function portOf(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    server.stdout?.on("data", (d: Buffer) => {
      seen += d.toString();
      const match = seen.match(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/);
      if (match?.[1]) resolve(match[1]);
    });
    server.once("exit", (code) => reject(new Error(`server exited ${code}: ${seen}`)));
  });
}

/** Milliseconds one command takes, start to exit; throws if it fails. */
async function timed(args: string[]): Promise<number> {
  const start = performance.now();
  await run(process.execPath, args, { cwd: ROOT });
  return performance.now() - start;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const server = spawn(
  process.execPath,
  ["dist/src/main.js", "--port", "0", "--host", "127.0.0.1", "--store", "memory:"],
  { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
);
try {
  const url = `http://127.0.0.1:${await portOf(server)}`;
  const commands: Array<[string, string[]]> = [["node -e ''", ["-e", ""]]];
  for (const cli of values.cli) {
    commands.push([
      `${cli} send`,
      [cli, "send", "--url", url, "--as", "bench", "bench", "hello from the bench"],
    ]);
  }
  const times = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of commands) times.get(name)?.push(await timed(args));
  }
  const floor = median(times.get("node -e ''") ?? []);
  console.log(
    `median of ${runs} runs each, interleaved (load: ${(await import("node:os")).loadavg()[0]?.toFixed(1)})`,
  );
  for (const [name, xs] of times) {
    const m = median(xs);
    console.log(
      `${name.padEnd(48)} ${(m / 1000).toFixed(3)} s  (min ${(Math.min(...xs) / 1000).toFixed(3)} s, ${(m / floor).toFixed(1)}x node's start)`,
    );
  }
} finally {
  server.kill("SIGTERM");
  await once(server, "exit");
}
