/**
 * What the store keeps of people: memberships (which rooms a user belongs
 * to, with a read position) and conversations (rooms only their
 * participants may touch). Kept with the messages, as durably and shared
 * the same way, but apart from them: nothing here changes how messages are
 * stored or numbered. The chat cores (src/chat/people-*.ts) check every
 * request before it reaches these methods.
 */

/** One user's membership of one room (or conversation). */
export interface Membership {
  /** The room's name, or the conversation's id. */
  room: string;
  /** The room's last seq when the membership began: a feed without a cursor for this room starts after it. */
  joinedSeq: number;
  /** The highest seq the user has read: starts at joinedSeq, never moves backwards. */
  readSeq: number;
  /** When the membership began, ms since the epoch. */
  joinedAtMs: number;
}

/** A conversation as stored. */
export interface Conversation {
  /** Its id: "dm." and 26 characters (see conversationId). */
  id: string;
  /** Every participant, sorted by code unit, no repeats. */
  participants: readonly string[];
  /** When it was opened, ms since the epoch. */
  createdAtMs: number;
}

/** One change to a user's memberships or read positions, as watchers receive it. */
export type PeopleChange =
  | { kind: "joined"; user: string; membership: Membership }
  | { kind: "left"; user: string; room: string }
  | { kind: "read"; user: string; room: string; readSeq: number }
  /**
   * Changes may have been missed (a shared engine's change channel was down
   * and is back): whatever a watcher holds of anyone's memberships must be
   * read again. `user` is "" (it concerns everyone).
   */
  | { kind: "lost"; user: "" };

/** What join did: the membership as stored, and whether this call began it. */
export interface JoinOutcome {
  membership: Membership;
  created: boolean;
}

/**
 * Memberships, read positions and conversations, as the processes sharing
 * a store see them. Each method is one atomic step on the engine.
 *
 * Every change that takes effect (a membership begun or ended, a read
 * position moved forward) reaches every watcher of every process sharing
 * the store, once, in the order the engine applied it for that user.
 */
export interface PeopleStore {
  /**
   * Make `user` a member of `room` with joinedSeq = readSeq = `joinedSeq`,
   * unless it is one already (then nothing changes: created false). Throws
   * MembershipLimitError, changing nothing, when the user already has
   * `maxRooms` memberships.
   */
  join(user: string, room: string, joinedSeq: number, maxRooms: number): Promise<JoinOutcome>;
  /** End a membership; false when there was none. */
  leave(user: string, room: string): Promise<boolean>;
  /** The user's membership of a room, if any. */
  membership(user: string, room: string): Promise<Membership | undefined>;
  /** Every membership of the user, ascending by room (code unit order). */
  memberships(user: string): Promise<Membership[]>;
  /**
   * Move the read position forward to `seq` (never backwards): the position
   * after the call, and whether it moved. Undefined when the user is not a
   * member. The caller checks seq against the room's last seq.
   */
  markRead(
    user: string,
    room: string,
    seq: number,
  ): Promise<{ readSeq: number; changed: boolean } | undefined>;
  /**
   * Open a conversation: store it unless one with its id exists. A new one
   * makes every participant a member (joinedSeq 0). An existing one is left
   * as it is, and makes `opener` a member again if it is not (joinedSeq
   * `openerJoinedSeq`, the room's last seq). Throws MembershipLimitError,
   * changing nothing, when the opener, or for a new conversation any
   * participant it would add, would pass `maxRooms`: otherwise others could
   * add a user to conversations without bound. Answers the stored
   * conversation and the memberships begun.
   */
  openConversation(
    conversation: Conversation,
    opener: string,
    openerJoinedSeq: number,
    maxRooms: number,
  ): Promise<ConversationOutcome>;
  /** The conversation with this id, if one was opened. */
  conversation(id: string): Promise<Conversation | undefined>;
  /** Receive every change until the returned function is called. */
  watch(listener: (change: PeopleChange) => void): () => void;
  /**
   * Resolves once every change made from now on, by any process, reaches
   * watch()'s listeners: engines that share changes over a network (Redis
   * pub/sub) subscribe first. Absent on engines where watching is live at
   * once (memory, SQLite). Read state after it resolves, not before, and
   * nothing falls between the read and the first change watched.
   */
  watching?(): Promise<void>;
}

/** What openConversation did. */
export interface ConversationOutcome {
  conversation: Conversation;
  /** True when this call stored it. */
  created: boolean;
  /** The memberships this call began, by user. */
  joined: { user: string; membership: Membership }[];
}

/** Thrown by join and openConversation when a user already has the most memberships allowed. */
export class MembershipLimitError extends Error {
  constructor(
    readonly user: string,
    readonly maxRooms: number,
  ) {
    super(`"${user}" is a member of ${maxRooms} rooms, the most allowed`);
    this.name = "MembershipLimitError";
  }
}
