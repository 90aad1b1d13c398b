import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisMissing } from "../../../bench/suite/bench-redis.js";
import { h2loadMissing } from "../../../bench/suite/h2load.js";

// The benchmark suite's quick mode, end to end: real servers (Parley, loaded
// over gRPC and over its WebSocket protocol, and both baselines) and load
// generators in their own processes. It checks that
// every scenario yields a figure for every target, never how fast: speed is
// for the bench scripts to print.

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Rows every quick run must print: scenario -> targets. */
const EXPECTED: Record<string, string[]> = {
  "fan-out": ["parley", "parley-ws", "grpc-js", "ws"],
  "fan-out per server CPU-second": ["parley", "parley-ws", "grpc-js", "ws"],
  "fan-out latency": ["parley", "parley-ws", "grpc-js", "ws"],
  "fan-out latency, same rate": ["parley", "parley-ws", "grpc-js", "ws"],
  "fan-out latency, same rate, memory store": ["parley"],
  "many rooms": ["parley", "grpc-js", "ws"],
  echo: ["parley", "parley-ws", "grpc-js", "ws"],
  "idle stream": ["parley", "parley-ws", "grpc-js", "http2-floor"],
  "idle stream, opening": ["parley", "parley-ws", "grpc-js", "http2-floor"],
  "idle connection": ["parley", "parley-ws", "grpc-js", "ws", "http2-floor"],
  "idle socket, no call": ["parley-ws"],
  "durable append (sqlite)": ["parley"],
  "durable append (memory)": ["parley"],
  "scale-out fan-out (1 node, SQLite)": ["parley"],
  "scale-out fan-out (1 node, memory)": ["parley"],
};

/**
 * The Redis rows, when redis-server is here; without it the bench skips them
 * saying why, and so does this test (except under CI=true, which has it).
 */
const REDIS_ROWS: Record<string, string[]> = {
  "scale-out fan-out (1 node, Redis)": ["parley"],
  "scale-out fan-out redis-server CPU (1 node, Redis)": ["parley"],
  "scale-out fan-out (2 nodes, Redis)": ["parley"],
  "scale-out fan-out redis-server CPU (2 nodes, Redis)": ["parley"],
  "scale-out append (SQLite)": ["parley"],
  "scale-out append (Redis, appendfsync always)": ["parley"],
  "scale-out append redis-server CPU (Redis, appendfsync always)": ["parley"],
  "scale-out append (Redis, appendfsync everysec)": ["parley"],
  "scale-out append redis-server CPU (Redis, appendfsync everysec)": ["parley"],
};
/** The rows h2load drives, when it is here; as the Redis rows otherwise. */
const UNARY_ROWS: Record<string, string[]> = {
  "durable append (sqlite), h2load": ["parley"],
  "durable append (memory), h2load": ["parley"],
  "unary Send, gRPC": ["parley", "grpc-js"],
  "unary Send, Connect binary": ["parley", "grpc-js"],
  "unary Send, Connect JSON": ["parley", "grpc-js"],
  "unary Send, gRPC-Web": ["parley", "grpc-js"],
};
const h2loadAbsent = h2loadMissing();
if (h2loadAbsent && process.env.CI === "true")
  throw new Error(`the bench's unary rows need h2load (${h2loadAbsent}), and CI=true`);
if (h2loadAbsent) console.warn(`SKIPPED the bench's unary rows in this test: ${h2loadAbsent}`);
else Object.assign(EXPECTED, UNARY_ROWS);

const redisAbsent = redisMissing();
if (redisAbsent && process.env.CI === "true")
  throw new Error(`the bench's Redis rows need redis-server (${redisAbsent}), and CI=true`);
if (redisAbsent) console.warn(`SKIPPED the bench's Redis rows in this test: ${redisAbsent}`);
else Object.assign(EXPECTED, REDIS_ROWS);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runQuick(outDir: string): Promise<Run> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/run.ts", "--quick", "--out", outDir],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  // The parley-ws target made the quick run about a quarter longer.
  const timer = setTimeout(() => child.kill("SIGKILL"), 230_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const cellsOf = (line: string) =>
  line
    .slice(1, -1)
    .split("|")
    .map((c) => c.trim());

/** The table's data rows, column name -> cell, keyed by "scenario|target". */
function tableRows(stdout: string): Map<string, Record<string, string>> {
  const lines = stdout.split("\n").filter((l) => l.startsWith("| "));
  const header = cellsOf(lines[0] ?? "");
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(1)) {
    if (line.startsWith("| ---")) continue;
    const cells = cellsOf(line);
    rows.set(
      `${cells[0]}|${cells[1]}`,
      Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""])),
    );
  }
  return rows;
}

const figure = (cell: string | undefined) => Number((cell ?? "").replaceAll(",", ""));

describe("npm run bench -- --quick", () => {
  const outDir = mkdtempSync(join(tmpdir(), "parley-bench-smoke-"));
  let run: Run;

  beforeAll(async () => {
    run = await runQuick(outDir);
  }, 240_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("exits 0 and prints one row per scenario and target, each with a figure, positive where quick mode can tell", () => {
    expect(run.code, run.stderr).toBe(0);
    const rows = tableRows(run.stdout);
    const expected = Object.entries(EXPECTED).flatMap(([s, targets]) =>
      targets.map((t) => `${s}|${t}`),
    );
    expect([...rows.keys()].sort()).toEqual(expected.sort());
    for (const [key, row] of rows) {
      const value = figure(row.value);
      // Quick mode adds a few hundred idle streams or connections: a growth of
      // RSS that small is within the noise of a garbage collection, so an idle
      // figure may come out negative here; it must still be a number.
      // redis-server's CPU per message: a quick run's few messages can take
      // less than one 10 ms tick of it, and it counts no calls.
      const redisCpu = key.includes("redis-server CPU");
      const positive = key.startsWith("idle") || (redisCpu ? value >= 0 : value > 0);
      expect(Number.isFinite(value) && positive, `${key}: ${row.value}`).toBe(true);
      if (!redisCpu) expect(row.errors, `${key} errors`).toBe("0");
    }
    for (const [key, row] of rows) {
      const timed = ["fan-out latency", "echo|", "scale-out fan-out (", "unary Send"].some((p) =>
        key.startsWith(p),
      );
      if (!timed) continue;
      expect(figure(row["p50 ms"]), key).toBeGreaterThan(0);
      expect(figure(row["p99 ms"]), key).toBeGreaterThanOrEqual(figure(row["p50 ms"]));
    }
    for (const [key, row] of rows) {
      if (key.startsWith("idle") || key.includes("redis-server CPU")) continue;
      const cpu = [row["server CPU"], row["load CPU"]].map((c) => figure(c?.replace("%", "")));
      // Throughput rows run flat out. A latency row at 20 msg/s for 350 ms can
      // round to 0% on a fast machine (CPU time is counted in 10 ms ticks), and
      // so can the scale-out fan-out rows, which run at such a fixed rate.
      const flatOut = (row.unit?.endsWith("/s") ?? false) && !key.startsWith("scale-out fan-out");
      // h2load's own CPU is read every 100 ms until it exits, and it spends
      // about 5% of a core: a 350 ms quick run can show less than one tick
      // before the last reading. Its server still runs flat out.
      const byH2load = key.startsWith("unary Send") || key.includes(", h2load|");
      cpu.forEach((c, i) => {
        if (flatOut && !(byH2load && i === 1)) expect(c, key).toBeGreaterThan(0);
        else expect(c, key).toBeGreaterThanOrEqual(0);
      });
    }
  });

  it("writes the figures as JSON and a chart as SVG", () => {
    const files = readdirSync(outDir).sort();
    const json = files.find((f) => f.endsWith("-quick.json"));
    const svg = files.find((f) => f.endsWith("-quick.svg"));
    expect(json && svg, files.join(", ")).toBeTruthy();
    const results = JSON.parse(readFileSync(join(outDir, json as string), "utf8")) as {
      rows: { scenario: string; target: string; value: number }[];
    };
    expect(results.rows).toHaveLength(tableRows(run.stdout).size);
    const chart = readFileSync(join(outDir, svg as string), "utf8");
    expect(chart.startsWith("<svg")).toBe(true);
    for (const scenario of Object.keys(EXPECTED)) expect(chart).toContain(scenario);
  });
});
