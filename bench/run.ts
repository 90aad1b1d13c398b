// The benchmark suite: Parley against a @grpc/grpc-js server and a raw `ws`
// broadcast server, each in its own process, driven by load generator
// processes. Prints a table, writes bench/results/<date>.json and .svg.
// With fan-out-curve, also <date>-fan-out-curve.svg (latency against load).
// Usage: npm run bench [-- --quick] [-- --only fan-out,echo,unary-send,fan-out-curve]
//        [-- --targets parley,grpc-js] [-- --runs 3] [-- --seconds 5]
//        [-- --out DIR] [-- --profile] [-- --same-rate MSG_PER_S]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chartSvg, curveSvg } from "./report/chart.js";
import { thisMachine } from "./report/machine.js";
import { formatTable } from "./report/table.js";
import { durableAppend } from "./scenarios/durable-append.js";
import { echo } from "./scenarios/echo.js";
import { fanOut } from "./scenarios/fan-out.js";
import { fanOutCurve } from "./scenarios/fan-out-curve.js";
import { idleScale } from "./scenarios/idle-scale.js";
import { manyRooms } from "./scenarios/many-rooms.js";
import { scaleOutAppend } from "./scenarios/scale-out-append.js";
import { scaleOutFanOut } from "./scenarios/scale-out-fan-out.js";
import { unarySend } from "./scenarios/unary-send.js";
import type { SuiteContext } from "./suite/context.js";
import { ALL_SCENARIOS, type Row, SCENARIOS, type ScenarioName } from "./suite/row.js";
import { FULL, QUICK } from "./suite/sizes.js";
import { ALL_TARGETS, TARGETS, type TargetName } from "./suite/targets.js";

const RUNNERS: Record<ScenarioName, (ctx: SuiteContext) => Promise<Row[]>> = {
  "fan-out": fanOut,
  "many-rooms": manyRooms,
  echo,
  "unary-send": unarySend,
  "fan-out-curve": fanOutCurve,
  "idle-scale": idleScale,
  "durable-append": durableAppend,
  "scale-out-fan-out": scaleOutFanOut,
  "scale-out-append": scaleOutAppend,
};

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    targets: { type: "string" },
    runs: { type: "string" },
    seconds: { type: "string" },
    "same-rate": { type: "string" },
    out: { type: "string", default: "bench/results" },
    profile: { type: "boolean", default: false },
  },
});

function pick<T extends string>(list: string | undefined, all: readonly T[], what: string): T[] {
  if (list === undefined) return [...all];
  const names = list.split(",");
  const unknown = names.filter((n) => !all.includes(n as T));
  if (unknown.length > 0)
    throw new Error(`unknown ${what}: ${unknown.join(", ")} (known: ${all.join(", ")})`);
  return names as T[];
}

const sizes = { ...(values.quick ? QUICK : FULL) };
if (values.runs) sizes.runs = Number(values.runs);
if (values.seconds) sizes.measureMs = Number(values.seconds) * 1000;
if (values["same-rate"]) {
  const rate = Number(values["same-rate"]);
  if (!(rate > 0))
    throw new Error(
      `--same-rate must be a positive number of messages/s, got "${values["same-rate"]}"`,
    );
  sizes.fanOut = { ...sizes.fanOut, sameRate: rate };
}
const scenarios =
  values.only === undefined ? [...SCENARIOS] : pick(values.only, ALL_SCENARIOS, "scenario");
const targets =
  values.targets === undefined
    ? [...TARGETS]
    : pick<TargetName>(values.targets, ALL_TARGETS, "target");
const tmpDir = mkdtempSync(join(tmpdir(), "parley-bench-"));
const date = new Date().toISOString().slice(0, 10);
const outDir = values.out;
mkdirSync(outDir, { recursive: true });
const profileDir = values.profile ? join(outDir, "profiles") : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

const started = Date.now();
const ctx: SuiteContext = {
  sizes,
  targets,
  tmpDir,
  profileDir,
  log: (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`),
};
try {
  const rows: Row[] = [];
  for (const scenario of scenarios) rows.push(...(await RUNNERS[scenario](ctx)));
  const table = formatTable(rows);
  console.log(table);
  const machine = thisMachine();
  const name = values.quick ? `${date}-quick` : date;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  writeFileSync(
    join(outDir, `${name}.json`),
    `${JSON.stringify({ date, command, machine, sizes, seconds: (Date.now() - started) / 1000, rows }, null, 2)}\n`,
  );
  writeFileSync(
    join(outDir, `${name}.svg`),
    await chartSvg(rows, `Parley vs grpc-js vs ws (${machine.cores} cores, ${date})`),
  );
  if (rows.some((r) => r.loadPercent !== undefined)) {
    writeFileSync(
      join(outDir, `${name}-fan-out-curve.svg`),
      await curveSvg(
        rows,
        `Fan-out latency against load, ${sizes.fanOut.subscribers} subscribers (${machine.cores} cores, ${date})`,
      ),
    );
  }
  ctx.log(`wrote ${join(outDir, `${name}.json`)} and .svg`);
} finally {
  rmSync(tmpDir, { recursive: true, force: true });
}
