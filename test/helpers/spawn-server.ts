import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A server running as its own process (`node --import tsx src/main.ts`). */
export interface SpawnedServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when it exits. */
  readonly exited: Promise<number | string>;
}

/**
 * A server on 127.0.0.1 at this fixed port with this store: started again on
 * the same port, it comes back where its clients reconnect.
 */
export function spawnOnPort(port: number, store: string): Promise<SpawnedServer> {
  return spawnServer(["--port", String(port), "--host", "127.0.0.1", "--store", store]);
}

/**
 * Start the server as a child process with these flags and wait until it
 * listens. `entry` is the script and its leading arguments (default the
 * `npm start` entry; `["src/cli/parley.ts", "serve"]` for the CLI).
 * `options.cwd` runs it from another folder (where the default store,
 * ./data/parley.db, then lives); `options.defaults` leaves every unnamed
 * flag at its default, --auth (guest) included.
 */
export async function spawnServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  entry: string[] = ["src/main.ts"],
  options: { cwd?: string; defaults?: boolean } = {},
): Promise<SpawnedServer> {
  // Tests call without tokens unless they choose a mode (the default is guest).
  const auth = args.includes("--auth") || options.defaults ? [] : ["--auth", "off"];
  const script = entry.map((part, i) => (i === 0 ? join(ROOT, part) : part));
  // tsx by path: from another folder, "tsx" alone would not resolve.
  const tsx = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
  const child = spawn(process.execPath, ["--import", tsx, ...script, ...auth, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start in 20 s:\n${out}`));
    }, 20_000);
    const check = () => {
      const m = /"url":"(http[^"]+)".*"msg":"parley listening"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { url, process: child, output: () => out, exited };
}
