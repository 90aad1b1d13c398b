import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** A redis-server this test started, on its own port and folder (never the shared 6379). */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT`, as --store takes it. */
  readonly url: string;
  /** Its working folder (RDB and AOF files). */
  readonly dir: string;
  /** Run redis-cli against it; resolves with the reply text, trimmed. */
  cli(...args: string[]): string;
  /** Kill it with SIGKILL (no shutdown save) and wait for it to exit. */
  kill(): Promise<void>;
  /** Start it again on the same port and folder, with the same flags. */
  restart(): Promise<void>;
  /** Stop it and delete its folder. */
  stop(): Promise<void>;
}

/** True when the redis-server command exists. */
export function hasRedisServer(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether tests that need redis-server can run. When it is missing they are
 * skipped with a console message saying so, except under CI=true, where
 * this throws so that the run fails.
 */
export function redisTestsCanRun(what: string): boolean {
  if (hasRedisServer()) return true;
  if (process.env.CI === "true")
    throw new Error(`${what} needs redis-server (apt-get install redis-server), and CI=true`);
  console.warn(`SKIPPED ${what}: redis-server is not installed (apt-get install redis-server)`);
  return false;
}

/**
 * Start a redis-server on a free port in a new temporary folder, with
 * snapshots off and `flags` added (e.g. "--appendonly", "yes"); resolves once
 * it accepts connections.
 */
export async function startRedis(flags: string[] = [], chosenPort?: number): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "parley-redis-"));
  const port = chosenPort ?? (await freePort());
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--logfile",
    "",
    ...flags,
  ];
  let child = await launch(args);
  const cli = (...cmd: string[]) =>
    execFileSync("redis-cli", ["-p", String(port), ...cmd], { encoding: "utf8" }).trim();
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    cli,
    kill,
    async restart() {
      await kill();
      child = await launch(args);
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start in 10 s:\n${out}`));
    }, 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`));
    });
  });
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  return child;
}

/** A Redis Cluster this test made: its masters, each a TestRedis. */
export interface TestRedisCluster {
  readonly masters: readonly TestRedis[];
  /** `redis-cluster://127.0.0.1:P1,127.0.0.1:P2,...`, as --store takes it. */
  readonly url: string;
  /** Stop every master and delete their folders. */
  stop(): Promise<void>;
}

/**
 * Start `count` cluster-enabled redis-servers and join them with
 * `redis-cli --cluster create` (no replicas, the slots split evenly);
 * resolves once every node reports cluster_state:ok.
 */
export async function startRedisCluster(count = 3): Promise<TestRedisCluster> {
  const masters: TestRedis[] = [];
  try {
    for (let i = 0; i < count; i++) {
      masters.push(
        await startRedis(
          ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--appendonly", "no"],
          await clusterPort(),
        ),
      );
    }
    const addresses = masters.map((m) => `127.0.0.1:${m.port}`);
    execFileSync(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { stdio: "ignore" },
    );
    for (let waited = 0; ; waited += 100) {
      const states = masters.map((m) => /cluster_state:(\w+)/.exec(m.cli("CLUSTER", "INFO"))?.[1]);
      if (states.every((s) => s === "ok")) break;
      if (waited > 20_000) throw new Error(`cluster not ok after 20 s: ${states.join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {
      masters,
      url: `redis-cluster://${addresses.join(",")}`,
      async stop() {
        for (const m of masters) await m.stop();
      },
    };
  } catch (error) {
    for (const m of masters) await m.stop();
    throw error;
  }
}

/** A port P where both P and its cluster bus port P + 10000 are free. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
