import { connectionFlood, type FloodSpec } from "./abuse-caps.js";
import type { Abuse } from "./tally.js";

// The soak's connection floods in a process of their own (floodsInProcess):
// started on the first message, stopped on "stop", their counts sent back,
// then the process exits.
let floods: Abuse[] = [];
process.on("message", async (message: { port: number; specs: FloodSpec[] } | "stop") => {
  if (message !== "stop") {
    floods = message.specs.map((spec) => connectionFlood(message.port, spec));
    return;
  }
  await Promise.all(floods.map((f) => f.stop()));
  process.send?.(
    floods.map((f) => f.tally.entries()),
    () => process.exit(0),
  );
});
