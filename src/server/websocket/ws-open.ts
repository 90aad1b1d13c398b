import { Code, ConnectError } from "@connectrpc/connect";
import { WS_DEFAULT_RESPONSE_CREDIT, type WsOpen } from "../../wire/ws-frames.js";

/** An OPEN frame's payload, checked. */
export interface OpenRequest {
  readonly method: string;
  /** By lower-case name. */
  readonly headers: Record<string, string>;
  readonly timeoutMs: number | undefined;
  readonly credit: number;
}

const MAX_CREDIT = 2 ** 32 - 1;

/**
 * Read an OPEN frame's JSON payload (WsOpen). Anything malformed is
 * INVALID_ARGUMENT naming the field, for that call only.
 */
export function readOpen(id: number, payload: Uint8Array, maxTimeoutMs: number): OpenRequest {
  const fail = (what: string) =>
    new ConnectError(`open frame of call ${id}: ${what}`, Code.InvalidArgument);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw fail("the payload must be a UTF-8 JSON object");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("the payload must be a UTF-8 JSON object");
  }
  const open = value as Partial<Record<keyof WsOpen, unknown>>;
  if (typeof open.method !== "string" || open.method === "") {
    throw fail('"method" must be a string such as "/chat.v1.ChatService/Echo"');
  }
  const headers: Record<string, string> = {};
  if (open.headers !== undefined) {
    if (typeof open.headers !== "object" || open.headers === null || Array.isArray(open.headers)) {
      throw fail('"headers" must be an object of strings');
    }
    for (const [name, v] of Object.entries(open.headers)) {
      if (typeof v !== "string") throw fail(`header ${JSON.stringify(name)} must be a string`);
      headers[name.toLowerCase()] = v;
    }
  }
  const timeoutMs = open.timeoutMs;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== "number" ||
      !Number.isInteger(timeoutMs) ||
      timeoutMs < 0 ||
      timeoutMs > maxTimeoutMs)
  ) {
    throw fail(`"timeoutMs" must be a whole number of ms from 0 to ${maxTimeoutMs}`);
  }
  const credit = open.credit ?? WS_DEFAULT_RESPONSE_CREDIT;
  if (
    typeof credit !== "number" ||
    !Number.isInteger(credit) ||
    credit < 1 ||
    credit > MAX_CREDIT
  ) {
    throw fail(`"credit" must be a whole number from 1 to ${MAX_CREDIT}`);
  }
  return { method: open.method, headers, timeoutMs, credit };
}
