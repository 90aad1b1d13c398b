// The reconnecting rapid reset against Parley, with the per-address reset
// budget off (--max-resets-per-address 0: the server before it) and on (its
// default), and no attack at all as the baseline, in one run: an attacker process (bench/soak/abuse-rapid-reset.ts)
// from 127.0.0.13 while a normal client on 127.0.0.1 sends one unary Send
// every 100 ms. Prints, per setting, medians over the runs: the attacker's
// connections and reset streams, the server's CPU per attacker stream, and
// the normal client's p50, p99 and worst latency and its failures.
// Usage: npm run bench:rapid-reset [-- --seconds 8] [-- --runs 3]
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "../gen/chat/v1/chat_pb.js";
import { rapidResetInProcess } from "./soak/abuse-rapid-reset.js";
import { parleyEntry } from "./suite/parley-build.js";
import { cpuMsOf } from "./suite/proc-stats.js";
import { spawnListening } from "./suite/spawn-process.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    runs: { type: "string", default: "3" },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);

interface RunFigures {
  connections: number;
  streams: number;
  cpuUsPerStream: number;
  /** Server CPU time over wall time during the attack (1 = one core busy). */
  cpuShare: number;
  /** The normal client's Sends over 100 ms or failed, and when. */
  slow: string[];
  probes: number;
  failed: number;
  p50: number;
  p99: number;
  worst: number;
  goaways: string[];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function oneRun(budget: string, attacking: boolean): Promise<RunFigures> {
  const server = await spawnListening(
    parleyEntry(),
    [
      ...["--port", "0", "--host", "127.0.0.1", "--store", "memory:", "--auth", "off"],
      ...["--max-resets-per-address", budget],
    ],
    /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"parley listening"/,
  );
  try {
    const client = createClient(ChatService, createGrpcTransport({ baseUrl: server.url }));
    const probe = async () => {
      const start = performance.now();
      try {
        await client.send(
          { room: "probe", author: "probe", text: "still here?" },
          { timeoutMs: 2000 },
        );
        return performance.now() - start;
      } catch {
        return undefined;
      }
    };
    await probe(); // connected before the attack starts
    const cpuBefore = cpuMsOf(server.pid);
    const attack = attacking ? await rapidResetInProcess(server.url, "127.0.0.13") : undefined;
    const latencies: number[] = [];
    const slow: string[] = [];
    let failed = 0;
    const began = performance.now();
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const started = performance.now();
      const ms = await probe();
      if (ms === undefined) failed++;
      else latencies.push(ms);
      if (ms === undefined || ms > 100) {
        slow.push(
          `${ms === undefined ? "failed" : `${ms.toFixed(0)} ms`} at ${((started - began) / 1000).toFixed(1)} s`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - started))));
    }
    const elapsedMs = performance.now() - began;
    await attack?.stop();
    const cpuMs = cpuMsOf(server.pid) - cpuBefore;
    const counts = new Map(attack?.tally.entries() ?? []);
    const streams = counts.get("streams reset") ?? 0;
    latencies.sort((a, b) => a - b);
    return {
      connections: counts.get("connections") ?? 0,
      streams,
      cpuUsPerStream: streams === 0 ? 0 : (cpuMs * 1000) / streams,
      cpuShare: cpuMs / elapsedMs,
      slow,
      probes: latencies.length + failed,
      failed,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      worst: latencies.at(-1) ?? 0,
      goaways: [...counts].filter(([k]) => k.startsWith("GOAWAY")).map(([k, n]) => `${n} × ${k}`),
    };
  } finally {
    await server.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

console.log(
  `reconnecting rapid reset, ${seconds} s per run, medians of ${runs} runs; normal client: one gRPC Send every 100 ms`,
);
for (const [label, budget, attacking] of [
  ["no attack (the baseline: this machine's own noise)", "1000", false],
  ["budget off (--max-resets-per-address 0: before)", "0", true],
  ["budget on (--max-resets-per-address 1000, the default)", "1000", true],
] as const) {
  const all: RunFigures[] = [];
  for (let i = 0; i < runs; i++) all.push(await oneRun(budget, attacking));
  const m = (pick: (f: RunFigures) => number) => median(all.map(pick));
  console.log(`\n${label}`);
  if (attacking) {
    console.log(
      `  attacker: ${m((f) => f.connections)} connections, ${m((f) => f.streams)} streams reset; server CPU ${m((f) => f.cpuUsPerStream).toFixed(1)} µs per attacker stream`,
    );
  }
  console.log(`  server CPU: ${(m((f) => f.cpuShare) * 100).toFixed(0)}% of one core`);
  console.log(
    `  normal client: ${m((f) => f.probes)} Sends, ${m((f) => f.failed)} failed; p50 ${m((f) => f.p50).toFixed(1)} ms, p99 ${m((f) => f.p99).toFixed(1)} ms, worst ${m((f) => f.worst).toFixed(1)} ms`,
  );
  console.log(
    `  slow or failed Sends, every run: ${all.flatMap((f) => f.slow).join("; ") || "none"}`,
  );
  if (attacking) {
    console.log(`  last run's GOAWAYs: ${all.at(-1)?.goaways.slice(0, 4).join("; ") || "none"}`);
  }
}
process.exit(0);
