import type { RoomSummary } from "../../gen/chat/v1/chat_pb.js";
import type { NormalFigures } from "./normal-clients.js";
import type { SoakOptions } from "./options.js";
import type { Tally } from "./tally.js";

const MiB = 1024 * 1024;

/** Server memory over the run. */
export interface RssFigures {
  start: number;
  peak: number;
  end: number;
}

function counts(map: Map<string, number>): string {
  return map.size === 0 ? "none" : [...map].map(([k, n]) => `${k} ${n}`).join(", ");
}

/** The soak's figures as printed lines. */
export function report(
  options: SoakOptions,
  flags: string[],
  normal: NormalFigures,
  rss: RssFigures,
  abuses: Tally[],
  roomsListed: RoomSummary[],
): string {
  const ms = (q: number) => normal.latency.quantileMs(q).toFixed(1);
  const lines = [
    `soak: ${options.seconds} s, ${options.subscribers} subscribers, ${options.senders} senders at ${options.rate} msg/s each; server flags ${flags.join(" ")}`,
    "",
    "normal clients",
    `  delivery latency   p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms, max ${ms(1)} ms (${normal.latency.total} timed deliveries; bursts not timed)`,
    `  gaps               ${normal.gaps}`,
    `  duplicates         ${normal.duplicates}`,
    `  sent / acked       ${normal.sent} / ${normal.acked} (send errors: ${counts(normal.sendErrors)})`,
    `  delivered          ${normal.delivered} of ${normal.expected} the rooms' logs called for (bursts included)`,
    `  resumed streams    ${counts(normal.resumes)}`,
    "",
    "server",
    `  RSS                start ${(rss.start / MiB).toFixed(1)} MiB, peak ${(rss.peak / MiB).toFixed(1)} MiB, end ${(rss.end / MiB).toFixed(1)} MiB`,
    `  rooms listed       ${roomsListed.length} (the normal rooms, the burst room's included; unknown-room reads store none)`,
    ...roomsListed.map(
      (r) => `    ${r.room}: last seq ${r.lastSeq}, ${r.memberCount} subscribers on the server`,
    ),
    "",
    "abuses",
  ];
  for (const t of abuses) {
    lines.push(`  ${t.name}`);
    for (const [outcome, n] of t.entries()) lines.push(`    ${outcome}: ${n}`);
  }
  return lines.join("\n");
}

/** True when the normal clients saw exactly what the logs hold: no gap, no duplicate, nothing missing. */
export function clean(normal: NormalFigures): boolean {
  return normal.gaps === 0 && normal.duplicates === 0 && normal.delivered === normal.expected;
}
