import { Code, ConnectError } from "@connectrpc/connect";
import type { CallInfo } from "../calls/call-info.js";
import { checkAuthor } from "../limits.js";

/** What a token allows, by scope. */
export const SCOPES = { read: "chat:read", write: "chat:write" } as const;
export type Access = keyof typeof SCOPES;

/** Who a verified token speaks for. */
export interface Identity {
  /** The token's `sub`: the only author its holder may use. */
  readonly subject: string;
  /** The token's `name` (a display name), or the subject. */
  readonly name: string;
  /** The token's scopes. */
  readonly scopes: ReadonlySet<string>;
  /**
   * The rooms the token may touch (its `rooms` claim: exact names, or
   * prefixes ending in "*"); undefined when the claim is absent (every room).
   */
  readonly rooms: readonly string[] | undefined;
  /** When the token expires, in ms since the epoch (undefined: never). */
  readonly expiresAtMs: number | undefined;
}

/** Where the auth policy leaves a call's identity for the method cores. */
export const identityKey = Symbol("parley identity");

/** The call's identity, or undefined when the server checks none (`--auth off`). */
export function identityOf(call: CallInfo): Identity | undefined {
  return call.value(identityKey) as Identity | undefined;
}

/** True when `room` is one of the token's rooms (or the token names none). */
export function allowsRoom(identity: Identity, room: string): boolean {
  if (identity.rooms === undefined) return true;
  return identity.rooms.some((rule) =>
    rule.endsWith("*") ? room.startsWith(rule.slice(0, -1)) : rule === room,
  );
}

/**
 * Refuse the call unless its identity may `access` the room: the scope for
 * it, and the room among the token's rooms. PERMISSION_DENIED names both.
 */
export function authorizeRoom(call: CallInfo, room: string, access: Access): void {
  const identity = identityOf(call);
  if (identity === undefined) return;
  checkScope(identity, access);
  if (!allowsRoom(identity, room)) {
    throw new ConnectError(
      `room "${room}" is private: the token of "${identity.subject}" does not list it in its rooms claim`,
      Code.PermissionDenied,
    );
  }
}

/** Refuse unless the identity holds the scope for `access`. */
export function checkScope(identity: Identity, access: Access): void {
  if (!identity.scopes.has(SCOPES[access])) {
    throw new ConnectError(
      `the token of "${identity.subject}" lacks the ${SCOPES[access]} scope`,
      Code.PermissionDenied,
    );
  }
}

/**
 * The author a request may use: the token's subject. An empty author takes
 * it; a malformed one is INVALID_ARGUMENT, as without identity, and any
 * other PERMISSION_DENIED, each naming the field. Without identity
 * checks (`--auth off`) the requested author stands.
 */
export function authorFor(call: CallInfo, field: string, requested: string): string {
  const identity = identityOf(call);
  if (identity === undefined) return requested;
  const author = requested.trim();
  if (requested === "" || author === identity.subject) return identity.subject;
  // A malformed author is bad input whoever sends it, as without identity.
  const problem = checkAuthor(author);
  if (problem !== undefined) throw new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
  throw new ConnectError(
    `${field}: "${author}" is not the token's subject "${identity.subject}"; leave it empty or use the subject`,
    Code.PermissionDenied,
  );
}
