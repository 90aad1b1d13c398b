import { type ChildProcess, fork } from "node:child_process";
import type { AgentResult, FromAgent, Job, ToAgent } from "../load/jobs.js";
import { ROOT } from "./spawn-process.js";

/** A load generator process, set up and ready. */
export interface Agent {
  readonly pid: number;
  send(message: ToAgent): void;
  /** Start, and resolve once the agent says its start is done. */
  startAndWait(): Promise<void>;
  /** Stop and report the measured window. */
  stop(): Promise<AgentResult>;
  /** Close its connections and let it exit; resolves with its total successes. */
  close(): Promise<number>;
}

function next(child: ChildProcess, type: FromAgent["type"]): Promise<FromAgent> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromAgent) => {
      if (message.type === "failed") {
        cleanup();
        reject(new Error(`load agent failed: ${message.error}`));
      } else if (message.type === type) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`load agent exited (${code}) while waiting for "${type}"`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** Fork a load generator for `job` and wait until it is connected. It exits by itself after `maxSeconds`. */
export async function startAgent(job: Job, maxSeconds: number): Promise<Agent> {
  const child = fork("bench/load/agent.ts", [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const send = (message: ToAgent) => child.send(message);
  const ready = next(child, "ready");
  send({ type: "setup", job, maxSeconds });
  await ready;
  return {
    pid: child.pid as number,
    send,
    async startAndWait() {
      const started = next(child, "started");
      send({ type: "start" });
      await started;
    },
    async stop() {
      const result = next(child, "result");
      send({ type: "stop" });
      return ((await result) as Extract<FromAgent, { type: "result" }>).result;
    },
    async close() {
      const closed = next(child, "closed");
      send({ type: "close" });
      const { total } = (await closed) as Extract<FromAgent, { type: "closed" }>;
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
      return total;
    },
  };
}
