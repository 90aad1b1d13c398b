// The Feed against per-room Subscribe under the same load: N users, each a
// member of 10 rooms (each room has 10 members), one publisher sending at a
// fixed rate round robin over the rooms. Mode "feed": each user holds one
// Feed; mode "subscribe": each user holds 10 Subscribe streams, one per
// room. Both deliver the same messages to the same users; the rows are
// deliveries/s, the p99 from send to delivery (the send time is the text),
// and the server's RSS growth per connected user once every stream is open
// and idle. The server runs from its tsc build as `npm start` does, on a
// SQLite file whose memberships are written before it starts; the readers
// (gRPC over a pool of HTTP/2 connections) run in processes of their own
// (bench/feed-readers.ts), the publisher here.
// Usage: tsx bench/feed.ts [--users 200] [--rate 200] [--seconds 10] [--connections N] [--runs 1]
//        (issue 20's row: --users 1000 --rate 500 --runs 3; the modes alternate
//        run by run, and each figure printed is the median of the runs)
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "../gen/chat/v1/chat_pb.js";
import { signToken } from "../src/identity/sign-token.js";
import { openLog } from "../src/store/open-log.js";
import type { ReadersJob, ReadersResult } from "./feed-readers.js";
import { median } from "./suite/measure.js";
import { parleyEntry } from "./suite/parley-build.js";
import { cpuMsOf, rssOf } from "./suite/proc-stats.js";
import { ROOT, type ServerProcess, spawnListening } from "./suite/spawn-process.js";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "200" },
    rate: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "" },
    readers: { type: "string", default: "2" },
    runs: { type: "string", default: "1" },
  },
});
const USERS = Number(values.users);
const RATE = Number(values.rate);
const MEASURE_MS = Number(values.seconds) * 1000;
const ROOMS_PER_USER = 10;
// At most 500 streams a connection (the server allows 1000 by default).
/** Reader processes. */
const READERS = Number(values.readers);
const CONNECTIONS =
  values.connections === ""
    ? Math.max(10, Math.ceil((USERS * ROOMS_PER_USER) / 500))
    : Number(values.connections);
const WARMUP_MS = 2000;
const UNLIMITED = "1000000";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

/** Rooms of user u: 10 rooms spread so that every room gets 10 members. */
function roomsOf(u: number): string[] {
  return Array.from({ length: ROOMS_PER_USER }, (_, k) => `room-${(u + k * 37) % USERS}`);
}

const dir = mkdtempSync(join(tmpdir(), "parley-bench-feed-"));
const secret = randomBytes(32).toString("base64url");
const secretFile = join(dir, "secret");
writeFileSync(secretFile, secret, { mode: 0o600 });
const store = `sqlite:${join(dir, "parley.db")}`;
const tokenOf = async (sub: string) =>
  (
    await signToken(
      Buffer.from(secret, "utf8"),
      { sub, scopes: ["chat:read", "chat:write"] },
      24 * 3600,
    )
  ).token;

/** One mode's figures. */
interface Figures {
  deliveriesPerS: number;
  p50Ms: number;
  p99Ms: number;
  serverCpu: number;
  /** The busiest reader process's CPU (% of a core): near 100, the readers are the bottleneck. */
  readerCpu: number;
  rssPerUserKiB: number;
  streams: number;
}

async function run(mode: "feed" | "subscribe"): Promise<Figures> {
  // A fresh file each mode, the memberships written before the server owns it.
  rmSync(join(dir, "parley.db"), { force: true });
  const setup = openLog(store, { retention: 100_000 });
  for (let u = 0; u < USERS; u++) {
    for (const room of roomsOf(u)) await setup.people.join(`u${u}`, room, 0, 1000);
  }
  await setup.close();
  const server: ServerProcess = await spawnListening(
    parleyEntry(),
    [
      ...["--auth", "jwt", "--auth-secret-file", secretFile],
      ...["--user-send-rate", UNLIMITED, "--user-send-burst", UNLIMITED],
      ...["--user-join-rate", UNLIMITED, "--user-max-streams", UNLIMITED],
      ...["--port", "0", "--host", "127.0.0.1", "--store", store, "--retention", "100000"],
      ...["--max-connections-per-address", "100000"],
    ],
    /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"parley listening"/,
  );
  try {
    await pause(500);
    const rssBefore = rssOf(server.pid);
    // The readers in processes of their own: decoding thousands of streams
    // would otherwise slow the publisher and the clock it stamps with.
    const users = await Promise.all(
      Array.from({ length: USERS }, async (_, u) => ({
        token: await tokenOf(`u${u}`),
        rooms: roomsOf(u),
      })),
    );
    const readers = Array.from({ length: READERS }, (_, w) => {
      const child = fork(join(ROOT, "bench/feed-readers.ts"), [], {
        execArgv: ["--import", "tsx"],
      });
      const mine = users.filter((_, u) => u % READERS === w);
      const job: ReadersJob = {
        url: server.url,
        mode,
        users: mine,
        connections: Math.max(1, Math.ceil(CONNECTIONS / READERS)),
      };
      child.send(job);
      // A reader whose channel closes before its result (it died, or the
      // result was lost) would leave the run waiting for ever. 'disconnect'
      // comes after every message the reader sent has been read.
      const channelClosed = new Promise<never>((_, reject) =>
        child.once("disconnect", () => {
          reject(
            new Error(`reader ${w} disconnected (exit code ${child.exitCode}) before its result`),
          );
        }),
      );
      channelClosed.catch(() => {});
      const ready = Promise.race([
        new Promise<void>((resolve) => child.once("message", () => resolve())),
        channelClosed,
      ]);
      return { child, ready, channelClosed };
    });
    await Promise.all(readers.map((r) => r.ready));
    await pause(1000);
    const rssPerUserKiB = (rssOf(server.pid) - rssBefore) / USERS / 1024;

    // The publisher: RATE messages a second, round robin over the rooms, in ticks of 10 ms.
    // The publisher on a connection of its own.
    const pub = createClient(ChatService, createGrpcTransport({ baseUrl: server.url }));
    const pubHeaders = { headers: { authorization: `Bearer ${await tokenOf("pub")}` } };
    let next = 0;
    let sending = true;
    const publishing = (async () => {
      const started = now();
      let sent = 0;
      while (sending) {
        const due = Math.floor(((now() - started) / 1000) * RATE);
        const batch: Promise<unknown>[] = [];
        for (; sent < due; sent++) {
          const room = `room-${next++ % USERS}`;
          batch.push(pub.send({ room, text: String(now()) }, pubHeaders).catch(() => {}));
        }
        await Promise.all(batch);
        await pause(10);
      }
    })();
    await pause(WARMUP_MS);
    const cpuBefore = cpuMsOf(server.pid);
    for (const r of readers) r.child.send("measure");
    const t0 = now();
    await pause(MEASURE_MS);
    const elapsed = now() - t0;
    const serverCpu = ((cpuMsOf(server.pid) - cpuBefore) / elapsed) * 100;
    const results = await Promise.all(
      readers.map((r) =>
        Promise.race([
          new Promise<ReadersResult>((resolve) => {
            r.child.once("message", (m) => resolve(m as ReadersResult));
            r.child.send("stop");
          }),
          r.channelClosed,
        ]),
      ),
    );
    sending = false;
    await publishing;
    const latencies = results.flatMap((r) => r.latencies);
    const delivered = results.reduce((n, r) => n + r.delivered, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    const opened = mode === "feed" ? USERS : USERS * ROOMS_PER_USER;
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    if (failed > 0) console.error(`${mode}: ${failed} of ${opened} streams failed`);
    return {
      deliveriesPerS: delivered / (elapsed / 1000),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      serverCpu,
      readerCpu: Math.max(...results.map((r) => r.cpuPercent)),
      rssPerUserKiB,
      streams: opened,
    };
  } finally {
    await server.stop();
  }
}

const MODES = ["subscribe", "feed"] as const;
const runs: Record<(typeof MODES)[number], Figures[]> = { subscribe: [], feed: [] };
for (let r = 0; r < Number(values.runs); r++) {
  for (const mode of MODES) {
    const f = await run(mode);
    runs[mode].push(f);
    console.error(
      `${mode} run ${r + 1}: ${f.deliveriesPerS.toFixed(0)} deliveries/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms, server ${f.serverCpu.toFixed(0)}%, busiest reader ${f.readerCpu.toFixed(0)}%, ${f.rssPerUserKiB.toFixed(1)} KiB/user`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });

const of = (fs: Figures[], key: keyof Figures) => median(fs.map((f) => f[key]));
console.log(
  `${USERS} users x ${ROOMS_PER_USER} rooms, ${RATE} msg/s over ${USERS} rooms, ${MEASURE_MS / 1000} s, gRPC over ${CONNECTIONS} connections, SQLite, medians of ${values.runs} run(s)`,
);
console.log(
  "| load | streams | deliveries/s | p50 ms | p99 ms | server CPU | busiest reader's CPU | server RSS per user (KiB) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const mode of MODES) {
  const fs = runs[mode];
  console.log(
    `| ${mode === "feed" ? "Feed (1 stream a user)" : "Subscribe (10 streams a user)"} | ${fs[0]?.streams} | ${of(fs, "deliveriesPerS").toFixed(0)} (of ${RATE * ROOMS_PER_USER}) | ${of(fs, "p50Ms").toFixed(1)} | ${of(fs, "p99Ms").toFixed(1)} | ${of(fs, "serverCpu").toFixed(0)}% | ${of(fs, "readerCpu").toFixed(0)}% | ${of(fs, "rssPerUserKiB").toFixed(1)} |`,
  );
}
