import type { Wire } from "../load/jobs.js";
import { benchAuth } from "./bench-auth.js";
import { parleyEntry } from "./parley-build.js";
import { type ServerProcess, spawnListening } from "./spawn-process.js";

/**
 * The servers the suite compares. "parley" is loaded over gRPC (h2c),
 * "parley-ws" is the same server loaded over its WebSocket protocol
 * (parley.v1 at /ws). "parley-jwt" is Parley with `--auth jwt`, every load
 * call carrying a token: beside "parley" in one run, it gives what verifying
 * tokens costs. "http2-floor" is bare node:http2 answering every stream with
 * headers and one empty message (bench/baselines/http2-floor.ts): the idle
 * memory scenario measures it beside Parley, as the floor; it serves no
 * other scenario, so --targets does not offer it.
 */
export type TargetName = "parley" | "parley-ws" | "parley-jwt" | "grpc-js" | "ws" | "http2-floor";

/** The targets a run compares unless --targets names others, Parley first. */
export const TARGETS: readonly TargetName[] = ["parley", "parley-ws", "grpc-js", "ws"];

/** Every target --targets may name. */
export const ALL_TARGETS: readonly TargetName[] = [
  "parley",
  "parley-ws",
  "parley-jwt",
  "grpc-js",
  "ws",
];

/** A running server under test. */
export interface Target extends ServerProcess {
  readonly name: TargetName;
  readonly wire: Wire;
  /** The token every load call sends (parley-jwt). */
  readonly token?: string;
}

/** How Parley is started for a run. */
export interface ParleyOptions {
  /** `--store` value. */
  store: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Extra parley flags (e.g. --metrics-port). */
  flags?: string[];
}

/**
 * Start a target in its own process on a free loopback port. Parley runs as
 * `npm start` runs it (the tsc build, with its defaults for queue limits and
 * heartbeats) on the given store; the baselines run from source under tsx.
 */
export async function startTarget(name: TargetName, parley: ParleyOptions): Promise<Target> {
  switch (name) {
    case "parley":
    case "parley-ws":
    case "parley-jwt": {
      const auth = name === "parley-jwt" ? await benchAuth() : undefined;
      const server = await spawnListening(
        parleyEntry(),
        [
          ...(auth?.flags ?? ["--auth", "off"]),
          ...[
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--store",
            parley.store,
            "--retention",
            "10000000",
          ],
          // The idle-scale scenario opens 5,000 connections (or sockets) from one address.
          ...["--max-connections-per-address", "100000"],
          ...["--ws-max-sockets-per-address", "100000"],
          ...(parley.flags ?? []),
        ],
        /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"parley listening"/,
        parley.nodeFlags,
      );
      const wire = name === "parley-ws" ? "parley-ws" : "grpc";
      return { ...server, name, wire, ...(auth ? { token: auth.token } : {}) };
    }
    case "grpc-js":
      return {
        ...(await spawnListening("bench/baselines/grpc-js-server.ts", [], /"listening":(\d+)/)),
        name,
        wire: "grpc",
      };
    case "ws":
      return {
        ...(await spawnListening("bench/baselines/ws-server.ts", [], /"listening":(\d+)/)),
        name,
        wire: "ws",
      };
    case "http2-floor":
      return {
        ...(await spawnListening("bench/baselines/http2-floor-server.ts", [], /"listening":(\d+)/)),
        name,
        wire: "grpc",
      };
  }
}
