// Where the fan-out latency tail comes from (issue 22). The fan-out load of
// the latency curve (1,000 subscribers on 50 connections, one publisher, one
// room) at one fixed message rate, on each setup in turn, each window with:
//   - p50 and p99 from send to delivery (the stamp in each text);
//   - p99 of the event-loop delay of the subscriber agent, of the publisher
//     agent, and of the server (the server's from its own /metrics,
//     nodejs_eventloop_lag_p99_seconds, which prom-client resets at each
//     scrape: one scrape when the window opens, one when it closes);
//   - the server's GC time in the window (nodejs_gc_duration_seconds_sum);
//   - CPU of the server and of the agents.
// A tail that the subscriber agent's loop also shows was the meter's; one
// that only the server's loop shows, or only the SQLite setup, is Parley's.
// Usage: tsx bench/latency-tail.ts [--rate 900] [--runs 3] [--seconds 3]
//        [--setups sqlite,memory,sqlite-2-agents,sqlite-semi-64]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../test/helpers/free-port.js";
import type { AgentResult } from "./load/jobs.js";
import { type Agent, startAgent } from "./suite/agents.js";
import { AGENT_MAX_SECONDS } from "./suite/context.js";
import { latencyOf, measureWindow, median } from "./suite/measure.js";
import { roomPublisher, roomSubscribers } from "./suite/room-load.js";
import { startTarget, type Target } from "./suite/targets.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "900" },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    setups: { type: "string", default: "sqlite,memory,sqlite-2-agents" },
  },
});
const RATE = Number(values.rate);
const RUNS = Number(values.runs);
const MEASURE_MS = Number(values.seconds) * 1000;
const WARMUP_MS = 1000;
const SUBSCRIBERS = 1000;
const CONNECTIONS = 50;

interface Setup {
  name: string;
  store: "sqlite" | "memory";
  /** Subscriber agent processes the subscribers are split over. */
  subscriberAgents: number;
  /** Node flags for the server. */
  nodeFlags?: string[];
}

const SETUPS: Record<string, Setup> = {
  sqlite: { name: "SQLite (the curve's setup)", store: "sqlite", subscriberAgents: 1 },
  memory: { name: "memory store", store: "memory", subscriberAgents: 1 },
  "sqlite-2-agents": {
    name: "SQLite, subscribers in 2 agents",
    store: "sqlite",
    subscriberAgents: 2,
  },
  "sqlite-semi-64": {
    name: "SQLite, server with --max-semi-space-size=64",
    store: "sqlite",
    subscriberAgents: 1,
    nodeFlags: ["--max-semi-space-size=64"],
  },
};

/** The server's metrics this script reads, from one scrape. */
async function scrape(port: number): Promise<{ loopP99Ms: number; gcSeconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let loopP99Ms = 0;
  let gcSeconds = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("nodejs_eventloop_lag_p99_seconds ")) {
      loopP99Ms = Number(line.split(" ")[1]) * 1000;
    } else if (line.startsWith("nodejs_gc_duration_seconds_sum")) {
      gcSeconds += Number(line.split(" ").at(-1));
    }
  }
  return { loopP99Ms, gcSeconds };
}

interface Figures {
  p50: number;
  p99: number;
  subscriberLoopP99: number;
  publisherLoopP99: number;
  serverLoopP99: number;
  serverGcMs: number;
  serverCpu: number;
  loadCpu: number;
  delivered: number;
}

async function window(target: Target, metricsPort: number, setup: Setup, room: string) {
  const per = Math.ceil(SUBSCRIBERS / setup.subscriberAgents);
  const subscribers: Agent[] = await Promise.all(
    Array.from({ length: setup.subscriberAgents }, () =>
      startAgent(
        roomSubscribers(target, room, {
          streams: per,
          connections: Math.ceil(CONNECTIONS / setup.subscriberAgents),
          latency: true,
        }),
        AGENT_MAX_SECONDS,
      ),
    ),
  );
  const publisher = await startAgent(
    roomPublisher(target, room, { textBytes: 100, window: 64, rate: RATE, maxLag: 256 }),
    AGENT_MAX_SECONDS,
  );
  const agents: Record<string, Agent> = { publisher };
  subscribers.forEach((a, i) => {
    agents[`subscribers-${i}`] = a;
  });
  try {
    // measureWindow marks the agents after the warm-up; the scrape at the
    // same moment resets the server's loop-delay histogram.
    const opened = (async () => {
      await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
      return scrape(metricsPort);
    })();
    const w = await measureWindow(target.pid, agents, WARMUP_MS, MEASURE_MS);
    const [before, after] = [await opened, await scrape(metricsPort)];
    const subs = subscribers.map((_, i) => w.results[`subscribers-${i}`] as AgentResult);
    const l = latencyOf(subs);
    return {
      p50: l.p50,
      p99: l.p99,
      subscriberLoopP99: Math.max(...subs.map((r) => r.loopDelayP99Ms)),
      publisherLoopP99: (w.results.publisher as AgentResult).loopDelayP99Ms,
      serverLoopP99: after.loopP99Ms,
      serverGcMs: (after.gcSeconds - before.gcSeconds) * 1000,
      serverCpu: w.serverCpu,
      loadCpu: w.loadCpu,
      delivered: subs.reduce((n, r) => n + r.count, 0) / (w.elapsedMs / 1000),
    } satisfies Figures;
  } finally {
    await publisher.close();
    await Promise.all(subscribers.map((a) => a.close()));
  }
}

const dir = mkdtempSync(join(tmpdir(), "parley-latency-tail-"));
const rows: string[] = [];
const f = (n: number) => n.toFixed(1);
for (const key of (values.setups as string).split(",")) {
  const setup = SETUPS[key];
  if (!setup)
    throw new Error(`--setups: unknown setup "${key}" (${Object.keys(SETUPS).join(", ")})`);
  const metricsPort = await freePort();
  const target = await startTarget("parley", {
    store: setup.store === "memory" ? "memory:" : `sqlite:${join(dir, `${key}.db`)}`,
    flags: ["--metrics-port", String(metricsPort)],
    ...(setup.nodeFlags ? { nodeFlags: setup.nodeFlags } : {}),
  });
  const runs: Figures[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      const w = await window(target, metricsPort, setup, `tail-${key}-${r}`);
      runs.push(w);
      console.error(
        `${key} run ${r + 1}: p50 ${f(w.p50)} p99 ${f(w.p99)} ms; loop p99 subscribers ${f(w.subscriberLoopP99)} publisher ${f(w.publisherLoopP99)} server ${f(w.serverLoopP99)} ms; server GC ${f(w.serverGcMs)} ms; CPU server ${w.serverCpu.toFixed(0)}% load ${w.loadCpu.toFixed(0)}%; ${w.delivered.toFixed(0)} deliveries/s`,
      );
    }
  } finally {
    await target.stop();
  }
  const m = (k: keyof Figures) => median(runs.map((w) => w[k]));
  rows.push(
    `| ${setup.name} | ${f(m("p50"))} | ${f(m("p99"))} | ${f(m("subscriberLoopP99"))} | ${f(m("publisherLoopP99"))} | ${f(m("serverLoopP99"))} | ${f(m("serverGcMs"))} | ${m("serverCpu").toFixed(0)}% | ${m("loadCpu").toFixed(0)}% | ${m("delivered").toFixed(0)} |`,
  );
}
rmSync(dir, { recursive: true, force: true });
console.log(
  `Fan-out at ${RATE} msg/s to ${SUBSCRIBERS} subscribers on ${CONNECTIONS} connections, ${MEASURE_MS / 1000} s windows, medians of ${RUNS}`,
);
console.log(
  "| setup | p50 ms | p99 ms | loop p99, subscriber agent | loop p99, publisher | loop p99, server | server GC ms | server CPU | load CPU | deliveries/s |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
