import type { CallInfo } from "../calls/call-info.js";
import { type Access, authorFor, authorizeRoom, identityOf } from "./identity.js";
import type { UserLimits } from "./user-limits.js";

/**
 * What a method core asks of identity: may this call touch this room, which
 * author it speaks as, and may it send, join or type once more now. Without
 * identity checks (`--auth off`) every answer is yes and the requested
 * author stands.
 */
export interface Gate {
  /** Throw PERMISSION_DENIED unless the call may `access` the room. */
  room(call: CallInfo, room: string, access: Access): void;
  /** The author the call speaks as; see authorFor. */
  author(call: CallInfo, field: string, requested: string): string;
  /** Count one send, join or typing update of the call's user; throw RESOURCE_EXHAUSTED with RetryInfo past its rate. */
  take(call: CallInfo, kind: "sends" | "joins" | "typing"): void;
}

/** The gate for a server; `limits` undefined when it checks no identity. */
export function createGate(limits: UserLimits | undefined): Gate {
  return {
    room: authorizeRoom,
    author: authorFor,
    take(call, kind) {
      const identity = identityOf(call);
      if (identity !== undefined) limits?.take(identity.subject, kind);
    },
  };
}

/** The gate of a server that checks no identity (`--auth off`, in-process tests). */
export const OPEN_GATE: Gate = createGate(undefined);
