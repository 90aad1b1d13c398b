// What open streams cost every other call on connect-node's path (Connect
// protocol, as browsers and connect clients speak it): the server's CPU per
// unary Send with 1 Subscribe stream open, then with --open streams open
// (spread over 500 rooms), on the memory store. Prints the median of --runs
// windows for each (after one warm-up window) and their ratio. The calls come from this process through
// connect-node's own client; the figure is the server's CPU, read from /proc.
// Usage: npm run bench:connect-streams [-- --open 5000 --runs 3 --seconds 5]
import { setMaxListeners } from "node:events";
import { parseArgs } from "node:util";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ChatService } from "../gen/chat/v1/chat_pb.js";
import { cpuMsOf } from "./suite/proc-stats.js";
import { startTarget } from "./suite/targets.js";

const { values } = parseArgs({
  options: {
    open: { type: "string", default: "5000" },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
  },
});
const OPEN = Number(values.open);
const RUNS = Number(values.runs);
const WINDOW_MS = Number(values.seconds) * 1000;
const SENDERS = 32;
const STREAM_CONNECTIONS = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Open `count` Subscribe streams and resolve once each has its ready event. */
async function openStreams(url: string, count: number, stop: AbortSignal): Promise<void> {
  const clients = Array.from({ length: STREAM_CONNECTIONS }, () =>
    createClient(ChatService, createConnectTransport({ baseUrl: url, httpVersion: "2" })),
  );
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const client = clients[i % clients.length] as Client<typeof ChatService>;
      return new Promise<void>((ready) => {
        void (async () => {
          try {
            for await (const _ of client.subscribe({ room: `open-${i % 500}` }, { signal: stop })) {
              ready();
            }
          } catch {
            ready(); // ended by `stop`
          }
        })();
      });
    }),
  );
}

/** Server CPU (us) per Send over one window of SENDERS concurrent senders. */
async function cpuPerSend(client: Client<typeof ChatService>, pid: number): Promise<number> {
  let sends = 0;
  let running = true;
  const senders = Array.from({ length: SENDERS }, async (_, k) => {
    while (running) {
      await client.send({ room: `busy-${k}`, author: "bench", text: "x".repeat(100) });
      sends++;
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  const [sends0, cpu0] = [sends, cpuMsOf(pid)];
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const [sends1, cpu1] = [sends, cpuMsOf(pid)];
  running = false;
  await Promise.all(senders);
  return ((cpu1 - cpu0) * 1000) / (sends1 - sends0);
}

async function measure(open: number): Promise<number> {
  const target = await startTarget("parley", { store: "memory:" });
  const stop = new AbortController();
  // Every stream of this client waits on it.
  setMaxListeners(0, stop.signal);
  try {
    await openStreams(target.url, open, stop.signal);
    const client = createClient(
      ChatService,
      createConnectTransport({ baseUrl: target.url, httpVersion: "2" }),
    );
    // A first window warms the server's JIT up; it is not counted.
    await cpuPerSend(client, target.pid);
    const runs: number[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(await cpuPerSend(client, target.pid));
    console.log(
      `${open} streams open: ${median(runs).toFixed(0)} us server CPU per Send (runs: ${runs.map((x) => x.toFixed(0)).join(", ")})`,
    );
    return median(runs);
  } finally {
    stop.abort();
    await target.stop();
  }
}

const alone = await measure(1);
const crowded = await measure(OPEN);
console.log(`ratio: ${(crowded / alone).toFixed(2)}x`);
process.exit(0);
