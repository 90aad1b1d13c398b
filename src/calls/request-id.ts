import { randomBytes } from "node:crypto";

/** What a client may send as x-request-id: 1-64 visible ASCII characters. */
const USABLE = /^[\x21-\x7e]{1,64}$/;

/** Ids made here: a per-process prefix and a counter, unique without a random draw per call. */
const PREFIX = randomBytes(4).toString("hex");
let counter = 0;

/**
 * The id a call's log lines carry: the client's x-request-id when it sent a
 * usable one (a load balancer's id then follows the call across hops), else
 * a new one.
 */
export function requestIdFrom(header: string | undefined): string {
  if (header !== undefined && USABLE.test(header)) return header;
  counter++;
  return `${PREFIX}-${counter.toString(36)}`;
}
