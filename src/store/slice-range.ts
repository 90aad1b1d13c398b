import type { ReadRange, StoredMessage } from "./message-log.js";

/**
 * Select a read range from a gapless, ascending array of messages whose live
 * part starts at index `offset` (entries before it are trimmed).
 */
export function sliceRange(
  messages: readonly StoredMessage[],
  offset: number,
  range: ReadRange,
): StoredMessage[] {
  const first = messages[offset];
  if (!first || range.limit <= 0) return [];
  const firstSeq = first.seq;
  const lastSeq = firstSeq + (messages.length - offset) - 1;
  const lo = Math.max(range.afterSeq + 1, firstSeq);
  const hi = range.beforeSeq > 0 ? Math.min(range.beforeSeq - 1, lastSeq) : lastSeq;
  if (lo > hi) return [];
  const from = range.newest ? Math.max(lo, hi - range.limit + 1) : lo;
  const to = range.newest ? hi : Math.min(hi, lo + range.limit - 1);
  return messages.slice(offset + (from - firstSeq), offset + (to - firstSeq) + 1);
}
