import { type Agent, startAgent } from "../suite/agents.js";
import { redisMissing } from "../suite/bench-redis.js";
import { AGENT_MAX_SECONDS, type SuiteContext } from "../suite/context.js";
import { type Deployment, deploy, perThousand, type Setup } from "../suite/deployment.js";
import { errorCount, latencyOf, measureWindow, median, perSecond } from "../suite/measure.js";
import type { Row } from "../suite/row.js";

/** The one-process stores first: the baselines the Redis rows are read against. */
const SETUPS: Setup[] = [
  { label: "1 node, SQLite", engine: "sqlite", nodes: 1 },
  { label: "1 node, memory", engine: "memory", nodes: 1 },
  { label: "1 node, Redis", engine: "redis", nodes: 1, appendfsync: "always" },
  { label: "2 nodes, Redis", engine: "redis", nodes: 2, appendfsync: "always" },
];

type Window = Awaited<ReturnType<typeof measureWindow>>;

/**
 * Scale-out fan-out: the fan-out load (one room, sizes.fanOut subscribers) at
 * one fixed message rate on each setup, the subscribers split evenly across
 * the nodes and the publisher on the first, so on two nodes half of every
 * message's deliveries cross Redis pub/sub. Deliveries/s (all kept up?),
 * latency, and the CPU per message of the nodes and of redis-server.
 */
export async function scaleOutFanOut(ctx: SuiteContext): Promise<Row[]> {
  if (!ctx.targets.includes("parley")) return [];
  const missing = redisMissing();
  const setups = missing ? SETUPS.filter((s) => s.engine !== "redis") : SETUPS;
  if (missing) ctx.log(`SKIPPED the Redis scale-out fan-out rows: ${missing}`);
  const windows = new Map<Setup, Window[]>(setups.map((s) => [s, []]));
  // Setups take turns run by run, so a change in the machine's other load
  // spreads over all of them rather than landing on one.
  for (let r = 0; r < ctx.sizes.runs; r++) {
    for (const setup of setups) {
      const d = await deploy(ctx, setup);
      try {
        const w = await window(ctx, d, `scale-fan-${r}`);
        windows.get(setup)?.push(w);
        const l = latencyOf(subscriberResults(w));
        ctx.log(
          `scale-out fan-out (${setup.label}) run ${r + 1}: ${deliveries(w).toFixed(0)} deliveries/s, p50 ${l.p50} ms p99 ${l.p99} ms, nodes ${nodesCpu(w).toFixed(0)}%${d.redis ? ` redis ${redisCpu(w).toFixed(0)}%` : ""}`,
        );
      } finally {
        await d.stop();
      }
    }
  }
  return setups.flatMap((setup) => rowsOf(ctx, setup, windows.get(setup) ?? []));
}

async function window(ctx: SuiteContext, d: Deployment, room: string): Promise<Window> {
  const s = ctx.sizes.fanOut;
  const agents: Record<string, Agent> = {};
  const started = d.nodes.map(async (node, i) => {
    // Node i takes every nodes.length-th subscriber: an even split.
    const share = (total: number) => Math.ceil((total - i) / d.nodes.length);
    agents[`subscribers${i}`] = await startAgent(
      {
        kind: "subscribe",
        wire: "grpc",
        url: node.url,
        rooms: [room],
        streams: share(s.subscribers),
        connections: Math.max(1, share(s.connections)),
        latency: true,
      },
      AGENT_MAX_SECONDS,
    );
  });
  const first = d.nodes[0];
  if (!first) throw new Error("a deployment without nodes");
  started.push(
    startAgent(
      {
        kind: "publish",
        wire: "grpc",
        url: first.url,
        rooms: [room],
        textBytes: ctx.sizes.textBytes,
        window: s.window,
        rate: ctx.sizes.scaleOut.rate,
        maxLag: s.maxLag,
      },
      AGENT_MAX_SECONDS,
    ).then((agent) => {
      agents.publisher = agent;
    }),
  );
  try {
    await Promise.all(started);
    return await measureWindow(
      first.pid,
      agents,
      ctx.sizes.warmupMs,
      ctx.sizes.measureMs,
      d.others,
    );
  } finally {
    await agents.publisher?.close();
    for (const [role, agent] of Object.entries(agents))
      if (role !== "publisher") await agent.close();
  }
}

const subscriberResults = (w: Window) =>
  Object.entries(w.results)
    .filter(([role]) => role.startsWith("subscribers"))
    .map(([, result]) => result);
const deliveries = (w: Window) => subscriberResults(w).reduce((n, r) => n + perSecond(r), 0);
/** Every node's CPU, percent of one core. */
const nodesCpu = (w: Window) =>
  w.serverCpu +
  Object.entries(w.otherCpuMs)
    .filter(([name]) => name.startsWith("node"))
    .reduce((sum, [, ms]) => sum + (ms / w.elapsedMs) * 100, 0);
const redisCpu = (w: Window) => ((w.otherCpuMs.redis ?? 0) / w.elapsedMs) * 100;
/** Messages acknowledged in the window. */
const messages = (w: Window) => w.results.publisher?.count ?? 0;

function rowsOf(ctx: SuiteContext, setup: Setup, windows: Window[]): Row[] {
  const rate = ctx.sizes.scaleOut.rate;
  const latency = latencyOf(windows.flatMap(subscriberResults));
  const runs = windows.map(deliveries);
  const p99s = windows.map((w) => latencyOf(subscriberResults(w)).p99);
  const nodesPerK = median(
    windows.map((w) => perThousand((nodesCpu(w) * w.elapsedMs) / 100, messages(w))),
  );
  const rows: Row[] = [
    {
      scenario: `scale-out fan-out (${setup.label})`,
      target: "parley",
      unit: "deliveries/s",
      higherIsBetter: true,
      value: median(runs),
      runs,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      serverCpu: median(windows.map(nodesCpu)),
      loadCpu: median(windows.map((w) => w.loadCpu)),
      machineCpu: median(windows.map((w) => w.machineCpu)),
      errors: windows.reduce(
        (n, w) => n + subscriberResults(w).reduce((m, r) => m + errorCount(r), 0),
        0,
      ),
      note: `${rate} msg/s to ${ctx.sizes.fanOut.subscribers} subscribers ${setup.nodes === 1 ? "on 1 node" : `split evenly over ${setup.nodes} nodes`}; p99 per run ${p99s.join(", ")} ms; nodes ${nodesPerK.toFixed(0)} CPU ms per 1,000 msgs`,
    },
  ];
  if (setup.engine === "redis") {
    const perK = windows.map((w) => perThousand(w.otherCpuMs.redis ?? 0, messages(w)));
    rows.push({
      scenario: `scale-out fan-out redis-server CPU (${setup.label})`,
      target: "parley",
      unit: "CPU ms/1k msgs",
      higherIsBetter: false,
      value: median(perK),
      runs: perK,
      serverCpu: median(windows.map(redisCpu)),
      note: `redis-server's CPU per 1,000 messages (AOF ${setup.appendfsync}); server CPU = redis-server`,
    });
  }
  return rows;
}
