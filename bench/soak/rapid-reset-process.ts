import { rapidResetAttack } from "./abuse-rapid-reset.js";
import type { Abuse } from "./tally.js";

// rapidResetAttack in its own process (rapidResetInProcess): says "ready"
// once loaded, attacks from "start" until "stop", sends its counts back,
// then exits.
const [url, localAddress] = process.argv.slice(2);
let attack: Abuse | undefined;
process.on("message", async (message: string) => {
  if (message === "start") {
    attack = rapidResetAttack(url as string, localAddress as string);
    return;
  }
  if (message !== "stop") return;
  await attack?.stop();
  process.send?.(attack?.tally.entries() ?? [], () => process.exit(0));
});
process.send?.("ready");
