import { join } from "node:path";
import type { Sizes } from "./sizes.js";
import { type ParleyOptions, startTarget, type Target, type TargetName } from "./targets.js";

/** What every scenario gets from the driver. */
export interface SuiteContext {
  sizes: Sizes;
  targets: readonly TargetName[];
  /** A scratch folder for store files, removed after the run. */
  tmpDir: string;
  /** Write a CPU profile of Parley into this folder, when set. */
  profileDir: string | undefined;
  /** Progress lines (stderr, so stdout keeps just the table). */
  log(line: string): void;
}

let stores = 0;

/**
 * Start a target for a throughput scenario. Parley runs on its default
 * store engine, SQLite (WAL, synchronous=FULL), in a fresh file: the
 * baselines keep messages in memory only, so every Parley figure includes
 * durability the others do not pay for.
 */
export function startFor(ctx: SuiteContext, name: TargetName, profile = false): Promise<Target> {
  const parley: ParleyOptions = { store: `sqlite:${join(ctx.tmpDir, `parley-${++stores}.db`)}` };
  if (profile && ctx.profileDir)
    parley.nodeFlags = ["--cpu-prof", `--cpu-prof-dir=${ctx.profileDir}`];
  return startTarget(name, parley);
}

/** How long a load agent may live before it exits by itself. */
export const AGENT_MAX_SECONDS = 300;
