import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** tsx's loader by absolute URL, so sources run from any working directory. */
const TSX = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** A server on the default settings, as `npm start` runs it, in a folder of its own. */
export interface DefaultServer {
  /** `http://localhost:PORT`, the URL the docs' `http://localhost:8080` stands for. */
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything it logged so far. */
  output(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/** The environment of a new user: none of Parley's variables set (they would change the defaults). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith("PARLEY_") || name === "PORT") delete env[name];
  }
  return { ...env, ...extra };
}

/**
 * Start `src/main.ts` (what `npm start` builds and runs) with no flag but
 * `--port` (the docs' 8080 may be taken; the tests substitute the port), in
 * `cwd`, so its default store `./data/parley.db` (and whatever else it keeps
 * beside its data) starts empty there.
 */
export async function startDefaultServer(cwd: string, port: number): Promise<DefaultServer> {
  mkdirSync(cwd, { recursive: true });
  const child = spawn(
    process.execPath,
    ["--import", TSX, join(ROOT, "src", "main.ts"), "--port", String(port)],
    { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "parley listening" in 30 s:\n${out}`)),
      30_000,
    );
    const take = (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"parley listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.once("error", reject);
    void exited.then(() => reject(new Error(`the server exited first:\n${out}`)));
  });
  await listening;
  return {
    url: `http://localhost:${port}`,
    port,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * A folder for PATH holding `parley` (the CLI from source under tsx, what
 * `npm link` would put there) and `python3` (Debian's /usr/bin/python3, the
 * one that sees Debian's python3-grpcio and python3-protobuf).
 */
export function commandShims(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const parley = join(dir, "parley");
  writeFileSync(
    parley,
    `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${join(ROOT, "src", "cli", "parley.ts")}" "$@"\n`,
  );
  chmodSync(parley, 0o755);
  const python = join(dir, "python3");
  writeFileSync(python, `#!/bin/sh\nexec /usr/bin/python3 "$@"\n`);
  chmodSync(python, 0o755);
  return dir;
}
