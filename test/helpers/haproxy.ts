import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's haproxy binary (package `haproxy`). */
const HAPROXY = "/usr/sbin/haproxy";

/**
 * Whether tests that need HAProxy can run. When it is missing they are
 * skipped with a console message saying so, except under CI=true, where this
 * throws so that the run fails.
 */
export function haproxyTestsCanRun(what: string): boolean {
  if (existsSync(HAPROXY)) return true;
  if (process.env.CI === "true")
    throw new Error(`${what} needs haproxy (apt-get install haproxy), and CI=true`);
  console.warn(`SKIPPED ${what}: haproxy is not installed (apt-get install haproxy)`);
  return false;
}

/** One server line of HAProxy's `show stat`: its status and the sessions it has taken. */
export interface ServerStat {
  /** "UP", "DOWN", "UP 1/2" (going down), "DOWN 1/2" (coming up), "MAINT" … */
  status: string;
  /** Sessions (requests, in HTTP mode) HAProxy has sent to it so far. */
  sessions: number;
}

/** An HAProxy this test started, in the foreground, with its own config file. */
export interface TestHaproxy {
  /** Everything it printed so far. */
  output(): string;
  /** `show stat` on its stats socket: each server of `backend`, by name. */
  servers(backend: string): Promise<Map<string, ServerStat>>;
  /** Any command on its stats socket (e.g. `disable server BACKEND/NAME`); resolves with the answer. */
  command(line: string): Promise<string>;
  /** Stop it and delete its folder. */
  stop(): Promise<void>;
}

/**
 * Start HAProxy with `config` (plus a `global` section with a stats socket,
 * which the test reads; nothing else is added) and resolve once it accepts
 * connections on `port`, the port its frontend binds.
 */
export async function startHaproxy(config: string, port: number): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), "parley-haproxy-"));
  const socket = join(dir, "stats.sock");
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, `global\n    stats socket ${socket} level admin\n\n${config}`);
  // -db: stay in the foreground, logging to stderr; no daemon to chase.
  const child = spawn(HAPROXY, ["-db", "-f", file], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(child, port, () => out);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    output: () => out,
    async servers(backend) {
      return parseStat(await ask(socket, "show stat"), backend);
    },
    command: (line) => ask(socket, line),
    stop,
  };
}

/** Poll `port` until it accepts a connection (10 s), failing early if HAProxy exits. */
async function listening(child: ChildProcess, port: number, out: () => string): Promise<void> {
  for (const deadline = Date.now() + 10_000; ; ) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}):\n${out()}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen in 10 s:\n${out()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Send one command to HAProxy's stats socket and read the answer until it closes. */
function ask(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const s = net.connect(path, () => s.end(`${command}\n`));
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      answer += d;
    });
    s.once("end", () => resolve(answer));
    s.once("error", reject);
  });
}

/** The CSV of `show stat` (first line `# pxname,svname,…`), servers of `backend` only. */
function parseStat(csv: string, backend: string): Map<string, ServerStat> {
  const [head = "", ...rows] = csv.trim().split("\n");
  const columns = head.replace(/^# /, "").split(",");
  const at = (name: string) => columns.indexOf(name);
  const servers = new Map<string, ServerStat>();
  for (const row of rows) {
    const cells = row.split(",");
    const name = cells[at("svname")] ?? "";
    if (cells[at("pxname")] !== backend || name === "BACKEND" || name === "FRONTEND") continue;
    servers.set(name, {
      status: cells[at("status")] ?? "",
      sessions: Number(cells[at("stot")]),
    });
  }
  return servers;
}
