import type { CallInfo } from "../calls/call-info.js";
import { isConversationId } from "../limits.js";
import type { Logger } from "../logger.js";
import type { StoredMessage } from "../store/message-log.js";
import type { PeopleStore } from "../store/people.js";
import { ConversationGuard } from "./conversation-guard.js";
import { type Access, authorFor, authorizeRoom, identityOf } from "./identity.js";
import { PostingJoins } from "./posting-joins.js";
import type { UserLimits } from "./user-limits.js";

/**
 * What a method core asks of identity: may this call touch this room, which
 * author it speaks as, and may it send, join or type once more now. Without
 * identity checks (`--auth off`) every answer is yes and the requested
 * author stands, but for conversations, which nobody may touch then.
 */
export interface Gate {
  /**
   * Throw PERMISSION_DENIED unless the call may `access` the room. For an
   * ordinary room that is all, synchronously, and the answer is undefined.
   * For a conversation id the answer is a promise that rejects with
   * NOT_FOUND unless the caller is a participant (see ConversationGuard);
   * a rejection nobody awaits is not reported as unhandled, so a core may
   * drop it when a later check of the request throws first.
   */
  room(call: CallInfo, room: string, access: Access): Promise<void> | undefined;
  /** The author the call speaks as; see authorFor. */
  author(call: CallInfo, field: string, requested: string): string;
  /** Count one send, join or typing update of the call's user; throw RESOURCE_EXHAUSTED with RetryInfo past its rate. */
  take(call: CallInfo, kind: "sends" | "joins" | "typing"): void;
  /**
   * The call's post is stored: its identified poster becomes a member of
   * the room (see PostingJoins). Undefined when nothing is to be done (no
   * identity, or a known membership); else a promise that never rejects.
   */
  posted(call: CallInfo, message: StoredMessage): Promise<void> | undefined;
  /** Who may touch which conversation. */
  readonly conversations: ConversationGuard;
}

/** What a gate with identity keeps of people, and where it reports what it cannot do. */
export interface GatePeople {
  store: PeopleStore;
  logger: Logger;
}

function ignore(): void {}

/** The gate for a server; `limits` and `people` undefined when it checks no identity. */
export function createGate(limits: UserLimits | undefined, people?: GatePeople): Gate {
  const conversations = new ConversationGuard(people?.store);
  const joins = people === undefined ? undefined : new PostingJoins(people.store, people.logger);
  return {
    conversations,
    room(call, room, access) {
      authorizeRoom(call, room, access);
      // Room names hold no ".": one check of a character keeps Send's path as it was.
      if (room.charCodeAt(2) !== 46 || !isConversationId(room)) return undefined;
      const allowed = conversations.check(identityOf(call)?.subject, room);
      allowed.catch(ignore);
      return allowed;
    },
    author: authorFor,
    take(call, kind) {
      const identity = identityOf(call);
      if (identity !== undefined) limits?.take(identity.subject, kind);
    },
    posted(call, message) {
      if (joins === undefined) return undefined;
      const identity = identityOf(call);
      return identity === undefined ? undefined : joins.posted(identity.subject, message);
    },
  };
}

/** The gate of a server that checks no identity (`--auth off`, in-process tests). */
export const OPEN_GATE: Gate = createGate(undefined);
