import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { request } from "./sse-client.js";

/** True when Debian's prometheus command exists. */
function hasPrometheus(): boolean {
  try {
    execFileSync("prometheus", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether tests that need prometheus can run: when it is missing they are
 * skipped with a console message saying so, except under CI=true, where this
 * throws so that the run fails.
 */
export function prometheusTestsCanRun(what: string): boolean {
  if (hasPrometheus()) return true;
  if (process.env.CI === "true")
    throw new Error(`${what} needs prometheus (apt-get install prometheus), and CI=true`);
  console.warn(`SKIPPED ${what}: prometheus is not installed (apt-get install prometheus)`);
  return false;
}

/** A prometheus server this test started, on its own port and data folder. */
export interface TestPrometheus {
  /** Run an instant PromQL query; resolves with each series' labels and value. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  stop(): Promise<void>;
}

/**
 * Start prometheus scraping `target` (host:port, path /metrics) as job
 * `job` every `intervalS` seconds, on a free loopback port with a temporary
 * data folder; resolves once it answers ready.
 */
export async function startPrometheus(
  job: string,
  target: string,
  intervalS = 1,
): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "parley-prometheus-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      `  scrape_interval: ${intervalS}s`,
      `  scrape_timeout: ${intervalS}s`,
      "scrape_configs:",
      `  - job_name: ${job}`,
      "    static_configs:",
      `      - targets: ["${target}"]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    const ready = await request(`${base}/-/ready`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (child.exitCode !== null || Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`prometheus did not get ready:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    async query(promql) {
      const answer = await request(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = JSON.parse(answer.body) as {
        status: string;
        error?: string;
        data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== "success") throw new Error(`query ${promql} failed: ${body.error}`);
      return (body.data?.result ?? []).map((r) => ({
        metric: r.metric,
        value: Number(r.value[1]),
      }));
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
