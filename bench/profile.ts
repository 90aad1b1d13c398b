// Profile Parley under load: start it with node --cpu-prof, run one window of
// the fan-out load (publisher as fast as delivered), of the durable-append
// load (64 senders awaiting acknowledgements) or of the echo load (100
// pipelined Echo streams), stop it and print where its CPU time went. Usage:
//   npm run bench:profile [-- --load fan-out|send|echo --store sqlite|memory
//                          --subscribers 1000 --rooms 1
//                          --connections 50 --seconds 5 --warmup 1
//                          --rate MSGS_PER_S --top 30]
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { summariseProfile } from "./report/profile-summary.js";
import { startAgent } from "./suite/agents.js";
import { AGENT_MAX_SECONDS } from "./suite/context.js";
import { latencyOf, measureWindow, perSecond } from "./suite/measure.js";
import { FULL } from "./suite/sizes.js";
import { startTarget } from "./suite/targets.js";

const { values } = parseArgs({
  options: {
    load: { type: "string", default: "fan-out" },
    // sqlite (the default store, a fresh file) or memory.
    store: { type: "string", default: "sqlite" },
    subscribers: { type: "string", default: String(FULL.fanOut.subscribers) },
    // More than one room is the many-rooms shape: subscribers spread over the
    // rooms, the publisher round-robin across them, no probe holding it back.
    rooms: { type: "string", default: "1" },
    connections: { type: "string", default: String(FULL.fanOut.connections) },
    seconds: { type: "string", default: "5" },
    rate: { type: "string" },
    top: { type: "string", default: "30" },
    warmup: { type: "string", default: "1" },
  },
});
const LOADS = { "fan-out": fanOutWindow, send: sendWindow, echo: echoWindow } as const;
const load = LOADS[values.load as keyof typeof LOADS];
if (load === undefined) {
  throw new Error(`--load must be one of ${Object.keys(LOADS).join(", ")}, not ${values.load}`);
}
const dir = mkdtempSync(join(tmpdir(), "parley-profile-"));
try {
  const target = await startTarget("parley", {
    store: values.store === "memory" ? "memory:" : `sqlite:${join(dir, "parley.db")}`,
    nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  });
  await load(target.url, target.pid);
  await target.stop();
  // The main thread's profile is the largest; tsx's loader thread writes a small one too.
  const profiles = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const main = profiles.sort().find((f) => /\.0\.\d+\.cpuprofile$/.test(f)) ?? profiles[0];
  if (!main) throw new Error("the server wrote no CPU profile (did it exit cleanly?)");
  console.log(summariseProfile(join(dir, main), Number(values.top)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function fanOutWindow(url: string, pid: number): Promise<void> {
  const s = FULL.fanOut;
  const roomCount = Number(values.rooms);
  if (!(roomCount >= 1)) throw new Error(`--rooms must be 1 or more, not ${values.rooms}`);
  const rooms = Array.from({ length: roomCount }, (_, i) => `profile-${i}`);
  const started = performance.now();
  const [subscribers, publisher] = await Promise.all([
    startAgent(
      {
        kind: "subscribe",
        wire: "grpc",
        url,
        rooms,
        streams: Number(values.subscribers),
        connections: Number(values.connections),
        latency: true,
      },
      AGENT_MAX_SECONDS,
    ),
    startAgent(
      {
        kind: "publish",
        wire: "grpc",
        url,
        rooms,
        textBytes: FULL.textBytes,
        window: s.window,
        rate: values.rate === undefined ? null : Number(values.rate),
        maxLag: roomCount === 1 ? s.maxLag : null,
      },
      AGENT_MAX_SECONDS,
    ),
  ]);
  console.log(`subscribed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const w = await measureWindow(
    pid,
    { subscribers, publisher },
    Number(values.warmup) * 1000,
    Number(values.seconds) * 1000,
  );
  const { p50, p99 } = latencyOf([w.results.subscribers]);
  console.log(
    `p50 ${p50} ms, p99 ${p99} ms; ${perSecond(w.results.subscribers).toFixed(0)} deliveries/s, ${perSecond(w.results.publisher).toFixed(0)} msg/s, server ${w.serverCpu.toFixed(0)}%, load ${w.loadCpu.toFixed(0)}%, machine ${w.machineCpu.toFixed(0)}%`,
  );
  await publisher.close();
  await subscribers.close();
}

async function sendWindow(url: string, pid: number): Promise<void> {
  const s = FULL.append;
  const senders = await startAgent(
    {
      kind: "send",
      wire: "grpc",
      url,
      senders: s.senders,
      connections: s.connections,
      rooms: Array.from({ length: s.rooms }, (_, i) => `profile-${i}`),
      textBytes: FULL.textBytes,
    },
    AGENT_MAX_SECONDS,
  );
  const w = await measureWindow(
    pid,
    { senders },
    Number(values.warmup) * 1000,
    Number(values.seconds) * 1000,
  );
  console.log(
    `${perSecond(w.results.senders).toFixed(0)} acks/s, server ${w.serverCpu.toFixed(0)}%, load ${w.loadCpu.toFixed(0)}%, machine ${w.machineCpu.toFixed(0)}%`,
  );
  await senders.close();
}

async function echoWindow(url: string, pid: number): Promise<void> {
  const echoer = await startAgent(
    {
      kind: "echo",
      wire: "grpc",
      url,
      streams: FULL.echo.streams,
      depth: FULL.echo.depth,
      textBytes: FULL.textBytes,
    },
    AGENT_MAX_SECONDS,
  );
  const w = await measureWindow(
    pid,
    { echoer },
    Number(values.warmup) * 1000,
    Number(values.seconds) * 1000,
  );
  const { p50, p99 } = latencyOf([w.results.echoer]);
  console.log(
    `${perSecond(w.results.echoer).toFixed(0)} round trips/s, p50 ${p50} ms, p99 ${p99} ms, server ${w.serverCpu.toFixed(0)}%, load ${w.loadCpu.toFixed(0)}%, machine ${w.machineCpu.toFixed(0)}%`,
  );
  await echoer.close();
}
