// Group commit in the SQLite store, measured on the store alone: appends that
// arrive together (64 in flight) share one transaction and one fsync, against
// the same appends awaited one by one (one transaction each). Prints the
// median of several runs and the ratio. Usage: npm run bench:group-commit
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteLog } from "../src/store/sqlite-log.js";

const RUNS = 5;
const MESSAGES = 2000;
const IN_FLIGHT = 64;

async function run(dir: string, name: string, inFlight: number): Promise<number> {
  const log = new SqliteLog({ path: join(dir, `${name}.db`), retention: 10_000 });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < MESSAGES) {
        next++;
        await log.append("bench", {
          author: "bench",
          text: `message ${next}`,
          clientMessageId: "",
        });
      }
    }),
  );
  const perSecond = MESSAGES / ((performance.now() - started) / 1000);
  await log.close();
  return perSecond;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const dir = mkdtempSync(join(tmpdir(), "parley-gc-"));
try {
  const grouped: number[] = [];
  const single: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    grouped.push(await run(dir, `grouped-${r}`, IN_FLIGHT));
    single.push(await run(dir, `single-${r}`, 1));
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  console.log(`sqlite group commit: ${MESSAGES} appends, synchronous=FULL, median of ${RUNS} runs`);
  console.log(
    `  ${IN_FLIGHT} in flight: ${median(grouped).toFixed(0)} appends/s (runs: ${fmt(grouped)})`,
  );
  console.log(`  one at a time: ${median(single).toFixed(0)} appends/s (runs: ${fmt(single)})`);
  console.log(`  ratio: ${(median(grouped) / median(single)).toFixed(1)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
