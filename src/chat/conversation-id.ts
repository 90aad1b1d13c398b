import { createHash } from "node:crypto";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * The participants of a conversation as stored: trimmed (the caller's
 * checks did that), without repeats, sorted by code unit, so that the same
 * people give the same list whoever asks and in whatever order.
 */
export function participantSet(names: readonly string[]): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A conversation's id: "dm." and the first 130 bits of the SHA-256 of its
 * sorted participants (each followed by a newline, which no name contains),
 * in lower-case base32. The same people always get the same id, on every
 * node, with no lookup; the id says nothing of who they are.
 */
export function conversationId(participants: readonly string[]): string {
  const digest = createHash("sha256");
  for (const name of participantSet(participants)) digest.update(`${name}\n`);
  const bytes = digest.digest();
  let out = "dm.";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 29) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === 29) break;
  }
  return out;
}
