import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../test/helpers/free-port.js";

/** A redis-server the bench started for itself, on its own port and folder. */
export interface BenchRedis {
  /** `redis://127.0.0.1:PORT`, as Parley's --store takes it. */
  readonly url: string;
  readonly pid: number;
  /** Run redis-cli against it; the reply, trimmed. */
  cli(...args: string[]): string;
  /** Stop it (SIGTERM, SIGKILL after 10 s) and wait for it to exit. */
  stop(): Promise<void>;
}

/**
 * Why the Redis rows cannot run here, or undefined when they can. The bench
 * skips them with this reason on a visible line rather than failing: Redis
 * is an optional engine and not every machine has Debian's redis-server.
 */
export function redisMissing(): string | undefined {
  for (const command of ["redis-server", "redis-cli"]) {
    try {
      execFileSync(command, ["--version"], { stdio: "ignore" });
    } catch {
      return `${command} is not installed (apt-get install redis-server)`;
    }
  }
  return undefined;
}

const running = new Set<ChildProcess>();
// A driver that dies (an error, Ctrl-C) must not leave a redis-server behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Start redis-server on a free loopback port (never the shared 6379) with its
 * files in a new folder under `tmpDir`, AOF on with the given fsync policy and
 * no RDB snapshots (a snapshot's fork would land in some windows and not
 * others). Resolves once it accepts connections.
 */
export async function startBenchRedis(
  tmpDir: string,
  appendfsync: "always" | "everysec",
): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpDir, "redis-"));
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
      ...["--appendonly", "yes", "--appendfsync", appendfsync, "--daemonize", "no"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      running.delete(child);
      resolve();
    }),
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start within 10 s:\n${out}`));
    }, 10_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited before it was ready:\n${out}`));
    });
  });
  // Keep draining its log so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid as number,
    cli: (...args) =>
      execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).trim(),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
