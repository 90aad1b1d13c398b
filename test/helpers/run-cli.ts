import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What a finished `parley` run printed, and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the `parley` CLI from source as a subprocess, feeding `input` to its
 * stdin (then closing it), and wait for it to exit (killed after 20 s).
 * `env` adds to (or, with undefined, removes from) its environment.
 * `entry` runs another build of it (the bundle npm run build writes).
 */
export function runCli(
  args: string[],
  input = "",
  env: Record<string, string | undefined> = {},
  entry: string[] = ["--import", "tsx", "src/cli/parley.ts"],
): Promise<CliRun> {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", PARLEY_AUTHOR: "tester", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parse stdout that holds one JSON document per line. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown);
}
