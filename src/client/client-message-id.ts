/**
 * A fresh idempotency key: a random UUID (version 4). Made from
 * crypto.getRandomValues, which exists in Node and in every browser context,
 * where crypto.randomUUID exists only in secure ones (https or localhost):
 * a page opened over plain http on a LAN address can still send.
 */
export function newClientMessageId(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
