/**
 * A fresh idempotency key. crypto.randomUUID exists only in secure contexts
 * (https or localhost); getRandomValues exists everywhere, so a page opened
 * over plain http on a LAN address can still send.
 */
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
