import { Code, ConnectError } from "@connectrpc/connect";
import {
  checkAuthor,
  checkClientMessageId,
  checkEpoch,
  checkRoomName,
  checkText,
} from "../limits.js";

/** An INVALID_ARGUMENT error whose message starts with the offending field. */
export function invalidArgument(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** Throw INVALID_ARGUMENT naming `field` when a check from src/limits.ts found a problem. */
function refuse(field: string, problem: string | undefined): void {
  if (problem !== undefined) throw invalidArgument(field, problem);
}

/** A room name: 1-64 of a-z 0-9 _ -, starting with a letter or digit. */
export function validRoom(field: string, value: string): string {
  refuse(field, checkRoomName(value));
  return value;
}

/** An author: 1-32 characters after trimming, no control or format characters. Returns it trimmed. */
export function validAuthor(field: string, value: string): string {
  const author = value.trim();
  refuse(field, checkAuthor(author));
  return author;
}

/** Message text: 1-500 characters after trimming, well-formed Unicode. Returns it trimmed. */
export function validText(field: string, value: string): string {
  const text = value.trim();
  refuse(field, checkText(text));
  return text;
}

/** An idempotency key: empty, or 1-64 printable ASCII characters. */
export function validClientMessageId(field: string, value: string): string {
  refuse(field, checkClientMessageId(value));
  return value;
}

/** An epoch a client remembered: at most 64 characters. */
export function validEpoch(field: string, value: string): string {
  refuse(field, checkEpoch(value));
  return value;
}

/** A seq from the wire as a number; seqs beyond 2^53 cannot exist. */
export function validSeq(field: string, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(field, `must be at most ${Number.MAX_SAFE_INTEGER} (got ${value})`);
  }
  return Number(value);
}
