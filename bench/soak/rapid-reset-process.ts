import { rapidResetAttack } from "./abuse-rapid-reset.js";

// rapidResetAttack in its own process (rapidResetInProcess): runs from the
// start until "stop", sends its counts back, then exits.
const [url, localAddress] = process.argv.slice(2);
const attack = rapidResetAttack(url as string, localAddress as string);
process.on("message", async (message: string) => {
  if (message !== "stop") return;
  await attack.stop();
  process.send?.(attack.tally.entries(), () => process.exit(0));
});
