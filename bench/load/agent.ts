// A load generator process. The bench driver forks one per role and drives
// it over IPC: setup (connect, then "ready"), start, mark (open the measured
// window), stop (report it), close (report the total and exit). It also
// exits by itself after maxSeconds, or when the driver goes away.
import { echoRunner } from "./echo-runner.js";
import { useToken } from "./grpc-h2.js";
import { idleRunner } from "./idle-runner.js";
import type { FromAgent, Job, ToAgent } from "./jobs.js";
import { publishRunner } from "./publish-runner.js";
import type { Runner } from "./runner.js";
import { sendRunner } from "./send-runner.js";
import { subscribeRunner } from "./subscribe-runner.js";

function create(job: Job): Promise<Runner> {
  switch (job.kind) {
    case "subscribe":
      return subscribeRunner(job);
    case "publish":
      return publishRunner(job);
    case "echo":
      return echoRunner(job);
    case "idle":
      return idleRunner(job);
    case "send":
      return sendRunner(job);
  }
}

const tell = (message: FromAgent, then: () => void = () => undefined) =>
  process.send?.(message, undefined, undefined, then);
let runner: Runner | undefined;

async function handle(message: ToAgent): Promise<void> {
  switch (message.type) {
    case "setup":
      setTimeout(() => process.exit(3), message.maxSeconds * 1000).unref();
      useToken(message.job.token);
      runner = await create(message.job);
      tell({ type: "ready" });
      return;
    case "start":
      await runner?.start();
      tell({ type: "started" });
      return;
    case "mark":
      return runner?.mark();
    case "stop":
      if (runner) tell({ type: "result", result: runner.stop() });
      return;
    case "close": {
      const total = (await runner?.close()) ?? 0;
      tell({ type: "closed", total }, () => process.exit(0));
      return;
    }
  }
}

process.on("message", (message: ToAgent) => {
  handle(message).catch((error: unknown) => {
    tell(
      {
        type: "failed",
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      },
      () => process.exit(1),
    );
  });
});
process.on("disconnect", () => process.exit(0));
