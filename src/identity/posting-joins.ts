import { LIMITS } from "../limits.js";
import type { Logger } from "../logger.js";
import type { StoredMessage } from "../store/message-log.js";
import { MembershipLimitError, type PeopleStore } from "../store/people.js";

/** Memberships this process remembers as known; past it the oldest is forgotten (and asked again). */
const MAX_KNOWN = 100_000;

/**
 * Posting to a room makes the poster a member of it (see People in
 * chat.proto). The membership begins just before the posted message
 * (joinedSeq = seq - 1, so a feed shows the poster's own message), and the
 * read position is the message itself (one's own message is read).
 *
 * Memberships known to exist are remembered per process (bounded), so a post
 * to a room one already belongs to costs no store call: the Send hot path
 * stays a Set lookup. A membership ended anywhere (LeaveRoom on any node)
 * is forgotten as the store reports it.
 */
export class PostingJoins {
  private readonly known = new Set<string>();
  private readonly joining = new Map<string, Promise<void>>();

  constructor(
    private readonly people: PeopleStore,
    private readonly logger: Logger,
  ) {
    people.watch((change) => {
      if (change.kind === "left") this.known.delete(key(change.user, change.room));
      // A leave may have been missed: know nothing, and ask the store again.
      if (change.kind === "lost") this.known.clear();
    });
  }

  /**
   * `user` posted `message`, which is stored. Undefined when the membership
   * is known (no store call); otherwise a promise that settles once the
   * membership is stored, so a Send answers after it and a ListMyRooms
   * that follows sees it. It never rejects and never fails the post: a
   * membership that cannot begin (the user's membership limit, a store
   * error) is logged, and the message stays stored without it.
   */
  posted(user: string, message: StoredMessage): Promise<void> | undefined {
    const k = key(user, message.room);
    if (this.known.has(k)) return undefined;
    // Posts that follow at once wait on the same store call instead of making their own.
    let joining = this.joining.get(k);
    if (joining === undefined) {
      joining = this.join(user, message, k).finally(() => this.joining.delete(k));
      this.joining.set(k, joining);
    }
    return joining;
  }

  private async join(user: string, message: StoredMessage, k: string): Promise<void> {
    const { room, seq } = message;
    try {
      const outcome = await this.people.join(user, room, seq - 1, LIMITS.membershipsMax);
      if (outcome.created) await this.people.markRead(user, room, seq);
      if (this.known.size >= MAX_KNOWN) {
        const oldest = this.known.values().next();
        if (oldest.done !== true) this.known.delete(oldest.value);
      }
      this.known.add(k);
    } catch (error) {
      if (error instanceof MembershipLimitError) {
        this.logger.info({ user, room }, `a post stored without a membership: ${error.message}`);
      } else {
        this.logger.warn(
          { user, room, err: error instanceof Error ? error.message : String(error) },
          "a post stored without a membership: the store refused the membership",
        );
      }
    }
  }
}

function key(user: string, room: string): string {
  // No author and no room name contains a newline.
  return `${user}\n${room}`;
}
