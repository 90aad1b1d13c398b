// Heap bytes per open, idle Subscribe stream on the direct gRPC path, in
// one process (server and clients together, so the figure is the server's
// objects plus the client streams', the same in every run; the server runs
// from its tsc build, as npm start runs it): N streams are
// opened over 10 connections, garbage is collected, and the heap growth is
// divided by N. Repeatable to a few bytes, unlike RSS; use it to compare two
// versions of the per-call code. Needs --expose-gc. With --census, heap
// snapshots are taken before and after, and what the streams added is
// listed by kind and constructor (or closure) name, per stream: what each
// idle stream holds, on both sides. With --bare, the same clients talk to a
// bare node:http2 server that answers every stream with headers and one
// message and keeps it open: the floor, and with --census the objects every
// HTTP/2 stream costs whoever serves it, to tell Parley's own apart. With
// --connection-each, every stream comes on a connection of its own: the
// figure is then a connection with one idle stream.
// Usage: node --expose-gc --import tsx bench/stream-heap.ts [--streams 5000] [--auth off|jwt] [--census] [--bare] [--connection-each]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { create, toBinary } from "@bufbuild/protobuf";
import { SubscribeRequestSchema } from "../gen/chat/v1/chat_pb.js";
import { startHttp2Floor } from "./baselines/http2-floor.js";
import { censusOf, printCensusDiff } from "./heap-census.js";
import { OUT_DIR, parleyEntry } from "./suite/parley-build.js";
import { ROOT } from "./suite/spawn-process.js";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "5000" },
    auth: { type: "string", default: "off" },
    census: { type: "boolean", default: false },
    bare: { type: "boolean", default: false },
    "connection-each": { type: "boolean", default: false },
  },
});
const STREAMS = Number(values.streams);

// The server's code as `npm start` runs it (compiled by tsc), not under tsx,
// whose keepNames gives every closure a dictionary of properties (about 250
// bytes each) and would count that as the server's.
parleyEntry();
const built = <T>(path: string): Promise<T> =>
  import(pathToFileURL(join(ROOT, OUT_DIR, path)).href) as Promise<T>;
const { AUTH_DEFAULTS } = await built<typeof import("../src/identity/auth-config.js")>(
  "src/identity/auth-config.js",
);
const { signToken } = await built<typeof import("../src/identity/sign-token.js")>(
  "src/identity/sign-token.js",
);
const { createLogger } = await built<typeof import("../src/logger.js")>("src/logger.js");
const { startParley } = await built<typeof import("../src/server/parley-server.js")>(
  "src/server/parley-server.js",
);
const CONNECTIONS = 10;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

const secret = randomBytes(48).toString("base64url");
const secretFile = join(mkdtempSync(join(tmpdir(), "parley-heap-")), "secret");
writeFileSync(secretFile, secret);
const server = values.bare
  ? await bareServer()
  : await startParley(
      {
        port: 0,
        host: "127.0.0.1",
        store: "memory:",
        retention: 1000,
        heartbeatMs: 600_000,
        queueEvents: 1000,
        queueBytes: 1 << 20,
        tlsCert: undefined,
        tlsKey: undefined,
        logLevel: "silent",
        shutdownMs: 2000,
        corsOrigins: [],
        webDir: "",
        requestIdleMs: 3_600_000,
        maxStreamsPerConnection: 100_000,
        maxConnectionsPerAddress: 100_000,
        auth:
          values.auth === "jwt"
            ? {
                ...AUTH_DEFAULTS,
                mode: "jwt",
                secretFile,
                limits: {
                  ...AUTH_DEFAULTS.limits,
                  maxStreams: 1_000_000,
                  joins: { perSecond: 1e6, burst: 1e6 },
                },
              }
            : undefined,
      },
      createLogger("silent"),
    );
const token = (await signToken(Buffer.from(secret), { sub: "reader", scopes: ["chat:read"] }, 3600))
  .token;
const sessions = Array.from({ length: CONNECTIONS }, () => http2.connect(server.url));
/** The connection the i-th stream goes on: one of the ten, or (--connection-each) its own. */
const sessionFor = (i: number): http2.ClientHttp2Session => {
  if (!values["connection-each"]) return sessions[i % CONNECTIONS] as http2.ClientHttp2Session;
  const session = http2.connect(server.url);
  sessions.push(session);
  return session;
};
const request = Buffer.from(
  toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { room: "idle" })),
);
const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, request.length]), request]);

async function open(count: number): Promise<http2.ClientHttp2Stream[]> {
  const streams: http2.ClientHttp2Stream[] = [];
  for (let i = 0; i < count; i++) {
    const session = sessionFor(i);
    const stream = session.request({
      ":method": "POST",
      ":path": "/chat.v1.ChatService/Subscribe",
      "content-type": "application/grpc",
      te: "trailers",
      ...(values.auth === "jwt" ? { authorization: `Bearer ${token}` } : {}),
    });
    stream.end(frame);
    streams.push(stream);
    await new Promise((resolve) => stream.once("data", resolve));
  }
  return streams;
}

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().heapUsed;
};
// Warm up: the first streams create what every later one shares.
const warm = await open(200);
const before = await settle();
const snapshotDir = mkdtempSync(join(tmpdir(), "parley-heap-snapshots-"));
const beforeSnapshot = values.census
  ? writeHeapSnapshot(join(snapshotDir, "before.heapsnapshot"))
  : "";
const streams = await open(STREAMS);
const after = await settle();
console.log(
  `${STREAMS} idle Subscribe streams${values["connection-each"] ? ", each on its own connection" : ""} (${values.bare ? "bare node:http2 server" : `auth ${values.auth}`}): ${((after - before) / STREAMS / 1024).toFixed(2)} KiB of heap each (server and client in one process)`,
);
if (values.census) {
  const afterSnapshot = writeHeapSnapshot(join(snapshotDir, "after.heapsnapshot"));
  printCensusDiff(censusOf(beforeSnapshot), censusOf(afterSnapshot), STREAMS);
}
rmSync(snapshotDir, { recursive: true, force: true });
for (const s of [...warm, ...streams]) s.close();
for (const s of sessions) s.close();
await server.stop();
process.exit(0);

/** The node:http2 floor (bench/baselines/http2-floor.ts) on a free port. */
async function bareServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const floor = await startHttp2Floor(0);
  return { url: `http://127.0.0.1:${floor.port}`, stop: floor.stop };
}
