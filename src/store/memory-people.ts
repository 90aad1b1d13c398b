import {
  type Conversation,
  type ConversationOutcome,
  type JoinOutcome,
  type Membership,
  MembershipLimitError,
  type PeopleChange,
  type PeopleStore,
} from "./people.js";

/**
 * PeopleStore in this process's memory: for the memory engine, and for
 * tests. Changes reach this process's watchers only, which is all there is.
 */
export class MemoryPeople implements PeopleStore {
  /** user -> room -> membership. */
  private readonly members = new Map<string, Map<string, Membership>>();
  private readonly conversations = new Map<string, Conversation>();
  private readonly watchers = new Set<(change: PeopleChange) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  async join(
    user: string,
    room: string,
    joinedSeq: number,
    maxRooms: number,
  ): Promise<JoinOutcome> {
    const rooms = this.roomsOf(user);
    const existing = rooms.get(room);
    if (existing !== undefined) return { membership: { ...existing }, created: false };
    if (rooms.size >= maxRooms) throw new MembershipLimitError(user, maxRooms);
    return { membership: this.begin(user, room, joinedSeq), created: true };
  }

  async leave(user: string, room: string): Promise<boolean> {
    const rooms = this.members.get(user);
    if (rooms?.delete(room) !== true) return false;
    if (rooms.size === 0) this.members.delete(user);
    this.emit({ kind: "left", user, room });
    return true;
  }

  async membership(user: string, room: string): Promise<Membership | undefined> {
    const found = this.members.get(user)?.get(room);
    return found === undefined ? undefined : { ...found };
  }

  async memberships(user: string): Promise<Membership[]> {
    const rooms = [...(this.members.get(user)?.values() ?? [])];
    return rooms.sort((a, b) => (a.room < b.room ? -1 : 1)).map((m) => ({ ...m }));
  }

  async markRead(
    user: string,
    room: string,
    seq: number,
  ): Promise<{ readSeq: number; changed: boolean } | undefined> {
    const found = this.members.get(user)?.get(room);
    if (found === undefined) return undefined;
    if (seq <= found.readSeq) return { readSeq: found.readSeq, changed: false };
    found.readSeq = seq;
    this.emit({ kind: "read", user, room, readSeq: seq });
    return { readSeq: seq, changed: true };
  }

  async openConversation(
    conversation: Conversation,
    opener: string,
    openerJoinedSeq: number,
    maxRooms: number,
  ): Promise<ConversationOutcome> {
    const stored = this.conversations.get(conversation.id);
    const openerRooms = this.roomsOf(opener);
    if (!openerRooms.has(conversation.id) && openerRooms.size >= maxRooms) {
      throw new MembershipLimitError(opener, maxRooms);
    }
    const joined: ConversationOutcome["joined"] = [];
    if (stored === undefined) {
      for (const user of conversation.participants) {
        const rooms = this.roomsOf(user);
        if (!rooms.has(conversation.id) && rooms.size >= maxRooms) {
          throw new MembershipLimitError(user, maxRooms);
        }
      }
      const copy = { ...conversation, participants: [...conversation.participants] };
      this.conversations.set(copy.id, copy);
      for (const user of copy.participants) {
        if (this.roomsOf(user).has(copy.id)) continue;
        joined.push({ user, membership: this.begin(user, copy.id, 0) });
      }
      return { conversation: { ...copy }, created: true, joined };
    }
    if (!openerRooms.has(stored.id)) {
      joined.push({ user: opener, membership: this.begin(opener, stored.id, openerJoinedSeq) });
    }
    return { conversation: { ...stored }, created: false, joined };
  }

  async conversation(id: string): Promise<Conversation | undefined> {
    const found = this.conversations.get(id);
    return found === undefined ? undefined : { ...found };
  }

  watch(listener: (change: PeopleChange) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private roomsOf(user: string): Map<string, Membership> {
    let rooms = this.members.get(user);
    if (rooms === undefined) {
      rooms = new Map();
      this.members.set(user, rooms);
    }
    return rooms;
  }

  private begin(user: string, room: string, joinedSeq: number): Membership {
    const membership = { room, joinedSeq, readSeq: joinedSeq, joinedAtMs: this.now() };
    this.roomsOf(user).set(room, membership);
    this.emit({ kind: "joined", user, membership: { ...membership } });
    return { ...membership };
  }

  private emit(change: PeopleChange): void {
    for (const watcher of this.watchers) watcher(change);
  }
}
