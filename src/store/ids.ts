import { randomBytes, randomUUID } from "node:crypto";

/** A new log epoch: 12 URL-safe characters, random so that a recreated log never repeats one. */
export function newEpoch(): string {
  return randomBytes(9).toString("base64url");
}

/** A new message id. */
export function newMessageId(): string {
  return randomUUID();
}
