import { createHash, randomBytes, randomUUID } from "node:crypto";

/** A new log epoch: 12 URL-safe characters, random so that a recreated log never repeats one. */
export function newEpoch(): string {
  return randomBytes(9).toString("base64url");
}

/**
 * The epoch a room's log has in one incarnation of a store: 12 URL-safe
 * characters derived from the store's incarnation id and the room's name.
 * Derived, not random, so a room nobody has written to can be given the epoch
 * its first append will store, without storing anything for it; a recreated
 * store (a new incarnation) gives every room new epochs.
 */
export function roomEpoch(incarnation: string, room: string): string {
  return createHash("sha256")
    .update(incarnation)
    .update("\0")
    .update(room)
    .digest("base64url")
    .slice(0, 12);
}

/** A new message id. */
export function newMessageId(): string {
  return randomUUID();
}
