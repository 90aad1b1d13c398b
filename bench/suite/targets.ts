import type { Wire } from "../load/jobs.js";
import { parleyEntry } from "./parley-build.js";
import { type ServerProcess, spawnListening } from "./spawn-process.js";

/** The servers the suite compares. */
export type TargetName = "parley" | "grpc-js" | "ws";

/** Every target, Parley first. */
export const TARGETS: readonly TargetName[] = ["parley", "grpc-js", "ws"];

/** A running server under test. */
export interface Target extends ServerProcess {
  readonly name: TargetName;
  readonly wire: Wire;
}

/** How Parley is started for a run. */
export interface ParleyOptions {
  /** `--store` value. */
  store: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

/**
 * Start a target in its own process on a free loopback port. Parley runs as
 * `npm start` runs it (the tsc build, with its defaults for queue limits and
 * heartbeats) on the given store; the baselines run from source under tsx.
 */
export async function startTarget(name: TargetName, parley: ParleyOptions): Promise<Target> {
  switch (name) {
    case "parley": {
      const server = await spawnListening(
        parleyEntry(),
        ["--port", "0", "--host", "127.0.0.1", "--store", parley.store, "--retention", "10000000"],
        /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"parley listening"/,
        parley.nodeFlags,
      );
      return { ...server, name, wire: "grpc" };
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
  }
}
