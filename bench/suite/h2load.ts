import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ChatService, SendRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import type { SuiteContext } from "./context.js";
import { median } from "./measure.js";
import { cpuMsOf, machineTicks } from "./proc-stats.js";
import type { Row } from "./row.js";
import type { Target } from "./targets.js";

// Sends driven by h2load (Debian's nghttp2-client): its requests and its
// clock are nobody's code here, and it costs the shared machine a fraction
// of what a Node client would. h2load counts HTTP statuses, and gRPC sends
// its errors with status 200 in trailers: so every run uses a fresh room,
// and afterwards the room's last_seq (History) must be at least what h2load
// counted as succeeded. Whatever is missing counts as errors.

/** Why h2load cannot run here, or undefined when it can. */
export function h2loadMissing(): string | undefined {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "h2load is not installed (apt-get install nghttp2-client)";
  }
}

/** How h2load loads: connections, and requests in flight on each (each waits for its answer). */
export interface H2loadShape {
  clients: number;
  streams: number;
}

/** A way to call Send: its headers and its body for a room. */
export interface Protocol {
  name: string;
  label: string;
  headers: string[];
  body(room: string): Uint8Array | string;
}

/** A gRPC message frame: flags, big-endian length, the message. */
function enveloped(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

const request = (room: string) =>
  create(SendRequestSchema, { room, author: "bench", text: "x".repeat(100) });

export const PROTOCOLS: Protocol[] = [
  {
    name: "grpc",
    label: "gRPC",
    headers: ["content-type: application/grpc", "te: trailers"],
    body: (room) => enveloped(toBinary(SendRequestSchema, request(room))),
  },
  {
    name: "connect-proto",
    label: "Connect binary",
    headers: ["content-type: application/proto", "connect-protocol-version: 1"],
    body: (room) => toBinary(SendRequestSchema, request(room)),
  },
  {
    name: "connect-json",
    label: "Connect JSON",
    headers: ["content-type: application/json", "connect-protocol-version: 1"],
    body: (room) => toJsonString(SendRequestSchema, request(room)),
  },
  {
    name: "grpc-web",
    label: "gRPC-Web",
    headers: ["content-type: application/grpc-web+proto", "x-grpc-web: 1"],
    body: (room) => enveloped(toBinary(SendRequestSchema, request(room))),
  },
];

export interface Run {
  rate: number;
  p50Ms: number;
  p99Ms: number;
  serverCpu: number;
  loadCpu: number;
  machineCpu: number;
  errors: number;
  /** Requests h2load saw succeed (for gRPC: status 200, whatever the trailers said). */
  succeeded: number;
}

/** One h2load run of Sends to `room`: a number of requests, or for a number of seconds. */
export async function h2load(
  ctx: SuiteContext,
  target: Target,
  protocol: Protocol,
  room: string,
  shape: H2loadShape,
  amount: { requests: number } | { seconds: number },
): Promise<Run> {
  const bodyFile = join(ctx.tmpDir, `${room}.body`);
  writeFileSync(bodyFile, protocol.body(room));
  const logFile = join(ctx.tmpDir, `${room}.log`);
  const args = [
    ...["-c", String(shape.clients), "-m", String(shape.streams)],
    ...("requests" in amount
      ? ["-n", String(amount.requests)]
      : ["-D", `${Math.round(amount.seconds * 1000)}ms`]),
    ...protocol.headers.flatMap((h) => ["-H", h]),
    ...["-d", bodyFile, "--log-file", logFile],
    `${target.url}/chat.v1.ChatService/Send`,
  ];
  const serverBefore = cpuMsOf(target.pid);
  const machineBefore = machineTicks();
  const started = performance.now();
  const child = spawn("h2load", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  // h2load's own CPU, read until it exits (the last reading is within 100 ms of its end).
  let loadCpuMs = 0;
  const sampler = setInterval(() => {
    try {
      if (child.pid !== undefined) loadCpuMs = cpuMsOf(child.pid);
    } catch {
      // It has just exited.
    }
  }, 100);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) =>
      reject(new Error(`h2load did not start (apt-get install nghttp2-client): ${error.message}`)),
    );
    child.once("exit", resolve);
  });
  clearInterval(sampler);
  const elapsedMs = performance.now() - started;
  const serverCpu = ((cpuMsOf(target.pid) - serverBefore) / elapsedMs) * 100;
  const machineAfter = machineTicks();
  const machineCpu =
    ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
    availableParallelism() *
    100;
  if (code !== 0) throw new Error(`h2load exited ${code}:\n${out}`);
  const rate = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]);
  const succeeded = Number(/(\d+) succeeded/.exec(out)?.[1]);
  const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
  if (!(rate > 0) || Number.isNaN(succeeded)) throw new Error(`unreadable h2load output:\n${out}`);
  const stored = await lastSeq(target, room);
  const durations = readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => Number(line.split("\t")[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number) =>
    durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? 0;
  return {
    rate,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    serverCpu,
    loadCpu: (loadCpuMs / elapsedMs) * 100,
    machineCpu,
    errors: failed + Math.max(0, succeeded - stored),
    succeeded,
  };
}

/** The room's last seq: how many Sends were stored (Parley), or the succeeded count taken on trust (grpc-js has no History). */
async function lastSeq(target: Target, room: string): Promise<number> {
  if (target.name === "grpc-js") return Number.POSITIVE_INFINITY;
  const client = createClient(
    ChatService,
    createConnectTransport({ baseUrl: target.url, httpVersion: "2" }),
  );
  return Number((await client.history({ room, limit: 1 })).lastSeq);
}

/** A row of h2load runs: their medians, every run's rate, and the errors of all. */
export function h2loadRow(
  scenario: string,
  target: Row["target"],
  unit: string,
  runs: Run[],
  note: string,
): Row {
  return {
    scenario,
    target,
    unit,
    higherIsBetter: true,
    value: median(runs.map((r) => r.rate)),
    runs: runs.map((r) => r.rate),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    serverCpu: median(runs.map((r) => r.serverCpu)),
    loadCpu: median(runs.map((r) => r.loadCpu)),
    machineCpu: median(runs.map((r) => r.machineCpu)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    note,
  };
}
