import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

// `npm run soak` end to end at a small size: issue 11's abuses at once beside
// normal clients, who must see every stored message once, in order. Figures
// of speed and memory are printed, never asserted.
it("npm run soak -- --seconds 3: normal clients see no gap, duplicate or missing message, exit 0", () => {
  const run = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/soak/soak.ts",
      ...["--seconds", "3", "--subscribers", "20", "--senders", "2", "--rate", "10"],
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
  );
  const out = run.stdout;
  expect(run.status, `${out}\n${run.stderr}`).toBe(0);
  expect(out).toMatch(/^ {2}gaps {15}0$/m);
  expect(out).toMatch(/^ {2}duplicates {9}0$/m);
  const delivered = /^ {2}delivered {10}(\d+) of (\d+) /m.exec(out);
  expect(delivered?.[1]).toBe(delivered?.[2]);
  // The normal rooms and nothing else: no abuse (unknown-room reads, refused
  // or reset Sends, subscribers of a quiet room since gone) leaves a room.
  expect(out).toMatch(/^ {2}rooms listed {7}2 .*\n {4}soak-0: .*\n {4}soak-1: /m);
}, 150_000);
