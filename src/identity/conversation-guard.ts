import { Code, ConnectError } from "@connectrpc/connect";
import type { Conversation, PeopleStore } from "../store/people.js";

/** Conversations this process remembers; past it the oldest found is forgotten (and asked again). */
const MAX_KNOWN = 100_000;

/**
 * Who may touch a conversation: its participants, and nobody else. A
 * conversation's participants never change, so one found in the store is
 * remembered for the life of the process (bounded); an id nobody opened is
 * asked of the store each time, since it may be opened any moment.
 *
 * A non-participant, a caller without identity and an id nobody opened all
 * get the same NOT_FOUND, so a conversation's existence does not leak.
 */
export class ConversationGuard {
  private readonly known = new Map<string, readonly string[]>();
  /** Lookups in flight, so a burst of calls for one id asks the store once. */
  private readonly asking = new Map<string, Promise<readonly string[] | undefined>>();

  /** `people` undefined: no store to ask (a server without identity): every conversation is not found. */
  constructor(private readonly people: PeopleStore | undefined) {}

  /**
   * Resolve when `subject` is a participant of conversation `id`; reject
   * with NOT_FOUND otherwise. Always asynchronous, found or not, so every
   * caller (and every protocol) answers the same way for both.
   */
  async check(subject: string | undefined, id: string): Promise<void> {
    const participants = subject === undefined ? undefined : await this.participants(id);
    if (participants === undefined || !participants.includes(subject as string)) {
      throw notFound(id);
    }
  }

  /** The conversation's participants (sorted), or undefined when nobody opened it. */
  async participants(id: string): Promise<readonly string[] | undefined> {
    const known = this.known.get(id);
    if (known !== undefined) return known;
    if (this.people === undefined) return undefined;
    let pending = this.asking.get(id);
    if (pending === undefined) {
      pending = this.people.conversation(id).then(
        (found) => {
          this.asking.delete(id);
          if (found !== undefined) this.remember(found);
          return found?.participants;
        },
        (error: unknown) => {
          this.asking.delete(id);
          throw error;
        },
      );
      this.asking.set(id, pending);
    }
    return pending;
  }

  /** Remember a conversation just opened or found. */
  remember(conversation: Conversation): void {
    if (this.known.has(conversation.id)) return;
    if (this.known.size >= MAX_KNOWN) {
      const oldest = this.known.keys().next();
      if (oldest.done !== true) this.known.delete(oldest.value);
    }
    this.known.set(conversation.id, [...conversation.participants]);
  }
}

/** The one answer for a conversation the caller may not see, whether or not it exists. */
export function notFound(id: string): ConnectError {
  return new ConnectError(`conversation ${id} not found`, Code.NotFound);
}
