import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: every bench process runs from there. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const running = new Set<ChildProcess>();
// A driver that dies (an error, Ctrl-C) must not leave servers behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(130));
}

/** A server process under test. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Ask it to stop (SIGTERM) and wait; SIGKILL after 30 s (a CPU profile takes a while to write). */
  stop(): Promise<void>;
}

/**
 * Run an entry (TypeScript under tsx, JavaScript as it is) and wait until its output matches
 * `listening` (whose first group is the port). Killed if it has not started
 * within 30 s.
 */
export async function spawnListening(
  entry: string,
  args: string[],
  listening: RegExp,
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeFlags, ...(entry.endsWith(".ts") ? ["--import", "tsx"] : []), entry, ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  let out = "";
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      running.delete(child);
      resolve();
    }),
  );
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${entry} did not start within 30 s:\n${out}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      // BENCH_LOG_DIR keeps every server's output, for when one misbehaves.
      const dir = process.env.BENCH_LOG_DIR;
      if (dir) appendFileSync(join(dir, `server-${child.pid}.log`), d);
      const m = listening.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
