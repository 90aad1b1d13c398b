/**
 * Reproduces the two costs shutdown-watch.ts avoids when every open call
 * waits on one long-lived shutdown signal:
 * 1. addEventListener/removeEventListener on an AbortSignal walk its whole
 *    listener list (nodejs/node#55311): n calls cost O(n^2).
 * 2. AbortSignal.any([call, shutdown]) leaves an entry in the shutdown
 *    signal for every composite ever made, even after the call aborted and
 *    a GC ran (nodejs/node#55351, #64476).
 *
 * Run: npx tsx src/server/workarounds/repro/abort-signal-costs.ts
 * Not imported by the server.
 */
import { setMaxListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

console.log(`Node ${process.version}`);
const costMs: number[] = [];
for (const n of [1_000, 10_000, 20_000]) {
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const listeners = Array.from({ length: n }, () => () => undefined);
  const started = performance.now();
  for (const l of listeners) signal.addEventListener("abort", l);
  for (const l of listeners) signal.removeEventListener("abort", l);
  costMs.push(performance.now() - started);
  console.log(`${n} listeners added and removed on one signal: ${costMs.at(-1)?.toFixed(0)} ms`);
}
// Linear would double from 10,000 to 20,000 listeners; quadratic quadruples.
const growth = (costMs[2] ?? 0) / (costMs[1] ?? 1);
console.log(
  growth > 3
    ? `REPRODUCED: twice the listeners cost ${growth.toFixed(1)}x the time.`
    : `NOT REPRODUCED: twice the listeners cost ${growth.toFixed(1)}x the time.`,
);

const shutdown = new AbortController().signal;
/** How many composites the shutdown signal still points to (Node's internal kDependantSignals). */
const dependants = () => {
  const key = Object.getOwnPropertySymbols(shutdown).find(
    (s) => s.description === "kDependantSignals",
  );
  return key === undefined ? 0 : (shutdown as unknown as Record<symbol, Set<unknown>>)[key]?.size;
};
for (let i = 0; i < 100_000; i++) {
  const call = new AbortController();
  AbortSignal.any([call.signal, shutdown]).addEventListener("abort", () => undefined);
  call.abort();
}
await new Promise((resolve) => setTimeout(resolve, 50));
gc();
await new Promise((resolve) => setTimeout(resolve, 50));
const heapMiB = (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0);
const held = dependants() ?? 0;
console.log(
  `100,000 calls through AbortSignal.any([call, shutdown]), each call aborted, then a GC: the shutdown signal still holds ${held} dependants (${heapMiB} MiB heap)`,
);
console.log(
  held > 1000
    ? "REPRODUCED: every composite ever made is still referenced by the shutdown signal."
    : "NOT REPRODUCED: the composites were released.",
);
