// Issue 22's table, before and after, from one command: the suite's
// scenarios behind each figure run on an earlier commit and on this
// checkout, each pass with the grpc-js baseline, then `parley send` from a
// shell for both builds, interleaved. The earlier commit is checked out in a
// git worktree with this checkout's bench/ copied in, so both passes use the
// same meter; only the server differs.
// Usage: tsx bench/before-after.ts [--before 54a50f0] [--runs 3] [--only idle-scale,...]
//   (54a50f0: the commit before the first change made for issue 22)
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Row } from "./suite/row.js";
import { ROOT } from "./suite/spawn-process.js";

const { values } = parseArgs({
  options: {
    before: { type: "string", default: "54a50f0" },
    runs: { type: "string", default: "3" },
    // Some of the table's scenarios only (the suite's names); the CLI rows then too, if "cli" is named.
    only: { type: "string", default: "unary-send,fan-out,durable-append,idle-scale,cli" },
  },
});
const RUNS = values.runs as string;
const ONLY = (values.only as string).split(",");
const SCENARIOS = ONLY.filter((name) => name !== "cli");
const scratch = mkdtempSync(join(tmpdir(), "parley-before-after-"));
const beforeDir = join(scratch, "before");
const log = (line: string) => console.error(`[before-after] ${line}`);

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

log(`checking out ${values.before} in ${beforeDir}`);
run("git", ["worktree", "add", "--detach", beforeDir, values.before as string], ROOT);
try {
  symlinkSync(join(ROOT, "node_modules"), join(beforeDir, "node_modules"));
  rmSync(join(beforeDir, "bench"), { recursive: true, force: true });
  cpSync(join(ROOT, "bench"), join(beforeDir, "bench"), {
    recursive: true,
    filter: (src) => !src.startsWith(join(ROOT, "bench/results")),
  });

  /** One pass of the suite's scenarios behind the table, in `cwd`. */
  const suite = (cwd: string, name: string): Row[] => {
    const out = join(scratch, `results-${name}`);
    log(`suite on ${name} (${cwd})`);
    run(
      "npx",
      [
        "tsx",
        "bench/run.ts",
        ...["--only", SCENARIOS.join(",")],
        ...["--targets", "parley,grpc-js", "--runs", RUNS],
        // grpc-js's half-load rate in the table.
        ...["--same-rate", "40", "--out", out],
      ],
      cwd,
    );
    const file = readdirSync(out).find((f) => f.endsWith(".json"));
    if (file === undefined) throw new Error(`no results in ${out}`);
    return (JSON.parse(readFileSync(join(out, file), "utf8")) as { rows: Row[] }).rows;
  };
  const before = suite(beforeDir, "before");
  const after = suite(ROOT, "after");

  const cli = ONLY.includes("cli") ? cliTimes() : "(not run: --only without cli)";

  const value = (rows: Row[], scenario: string, target = "parley") =>
    rows.find((r) => r.scenario === scenario && r.target === target)?.value;
  const cell = (n: number | undefined, digits = 0) =>
    n === undefined ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits });
  const FIGURES: [string, string, number][] = [
    ["unary `Send`, gRPC, memory store, h2load -c 8 -m 32 (calls/s)", "unary Send, gRPC", 0],
    ["unary `Send`, Connect binary (calls/s)", "unary Send, Connect binary", 0],
    ["unary `Send`, Connect JSON (calls/s)", "unary Send, Connect JSON", 0],
    ["unary `Send`, gRPC-Web (calls/s)", "unary Send, gRPC-Web", 0],
    ["fan-out p99 at 40 msg/s to 1,000 (ms)", "fan-out latency, same rate", 1],
    ["fan-out p99 at half of Parley's own maximum (ms)", "fan-out latency", 1],
    ["fan-out deliveries/s", "fan-out", 0],
    ["fan-out deliveries per server CPU-second", "fan-out per server CPU-second", 0],
    ["durable append, SQLite, 64 senders (acks/s)", "durable append (sqlite)", 0],
    ["durable append, memory store (acks/s)", "durable append (memory)", 0],
    [
      "durable append, SQLite, 64 in flight from h2load (acks/s)",
      "durable append (sqlite), h2load",
      0,
    ],
    [
      "durable append, memory store, 64 in flight from h2load (acks/s)",
      "durable append (memory), h2load",
      0,
    ],
    ["idle `Subscribe` stream (KiB)", "idle stream", 2],
    ["idle HTTP/2 connection (KiB)", "idle connection", 2],
    ["opening idle streams, rooms of 100 (server CPU ms per 1,000)", "idle stream, opening", 0],
  ];
  console.log(
    `Before = ${values.before}, after = ${run("git", ["rev-parse", "--short", "HEAD"], ROOT).trim()}; medians of ${RUNS} runs each`,
  );
  console.log("| figure | before | after | grpc-js (after's pass) |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [label, scenario, digits] of FIGURES) {
    console.log(
      `| ${label} | ${cell(value(before, scenario), digits)} | ${cell(value(after, scenario), digits)} | ${cell(value(after, scenario, "grpc-js"), digits)} |`,
    );
  }
  console.log(`\nparley send from a shell (bench/cli-startup.ts, first = before):\n${cli}`);

  /** `parley send` from a shell for both builds, interleaved. */
  function cliTimes(): string {
    log("building both for parley send");
    run("npm", ["run", "--silent", "build"], beforeDir);
    run("npm", ["run", "--silent", "build"], ROOT);
    const beforeCli = existsSync(join(beforeDir, "dist/cli/parley.js"))
      ? join(beforeDir, "dist/cli/parley.js")
      : join(beforeDir, "dist/src/cli/parley.js");
    return run(
      "npx",
      [
        "tsx",
        "bench/cli-startup.ts",
        "--runs",
        "15",
        "--cli",
        beforeCli,
        "--cli",
        "dist/cli/parley.js",
      ],
      ROOT,
    );
  }
  const names = [...new Set([...before, ...after].map((r) => `${r.scenario} (${r.unit})`))];
  log(`scenarios seen: ${names.join("; ")}`);
} finally {
  run("git", ["worktree", "remove", "--force", beforeDir], ROOT);
  rmSync(scratch, { recursive: true, force: true });
}
