import type Database from "better-sqlite3";
import {
  type Conversation,
  type ConversationOutcome,
  type JoinOutcome,
  type Membership,
  MembershipLimitError,
  type PeopleChange,
  type PeopleStore,
} from "./people.js";
import { SQLITE_PEOPLE_SCHEMA } from "./sqlite-schema.js";

interface MembershipRow {
  room: string;
  joined_seq: number;
  read_seq: number;
  joined_at: number;
}

interface ConversationRow {
  id: string;
  participants: string;
  created_at: number;
}

/**
 * Memberships, read positions and conversations in the SQLite file, beside
 * the messages (tables in sqlite-schema.ts): they outlive restarts. Each
 * method is one synchronous transaction, so steps never interleave, and
 * changes reach this process's watchers after their transaction committed:
 * one process owns the file, so they are all the watchers there are.
 */
export class SqlitePeople implements PeopleStore {
  private readonly stmt;
  private readonly watchers = new Set<(change: PeopleChange) => void>();

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SQLITE_PEOPLE_SCHEMA);
    this.stmt = {
      one: db.prepare<[string, string], MembershipRow>(
        "SELECT room, joined_seq, read_seq, joined_at FROM memberships WHERE user = ? AND room = ?",
      ),
      // The primary key's order: rooms are ASCII (a-z 0-9 _ - and dm.), where
      // SQLite's byte order is code unit order.
      all: db.prepare<[string], MembershipRow>(
        "SELECT room, joined_seq, read_seq, joined_at FROM memberships WHERE user = ? ORDER BY room",
      ),
      count: db.prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM memberships WHERE user = ?",
      ),
      insert: db.prepare<[string, string, number, number, number]>(
        "INSERT INTO memberships (user, room, joined_seq, read_seq, joined_at) VALUES (?, ?, ?, ?, ?)",
      ),
      remove: db.prepare<[string, string]>("DELETE FROM memberships WHERE user = ? AND room = ?"),
      // Forward only: a lower seq matches no row.
      read: db.prepare<[number, string, string, number]>(
        "UPDATE memberships SET read_seq = ? WHERE user = ? AND room = ? AND read_seq < ?",
      ),
      conversation: db.prepare<[string], ConversationRow>(
        "SELECT id, participants, created_at FROM conversations WHERE id = ?",
      ),
      insertConversation: db.prepare<[string, string, number]>(
        "INSERT INTO conversations (id, participants, created_at) VALUES (?, ?, ?)",
      ),
    };
  }

  async join(
    user: string,
    room: string,
    joinedSeq: number,
    maxRooms: number,
  ): Promise<JoinOutcome> {
    const changes: PeopleChange[] = [];
    const outcome = this.db.transaction((): JoinOutcome => {
      const existing = this.stmt.one.get(user, room);
      if (existing !== undefined) return { membership: toMembership(existing), created: false };
      this.checkLimit(user, maxRooms);
      return { membership: this.begin(user, room, joinedSeq, changes), created: true };
    })();
    this.emit(changes);
    return outcome;
  }

  async leave(user: string, room: string): Promise<boolean> {
    const left = this.stmt.remove.run(user, room).changes > 0;
    if (left) this.emit([{ kind: "left", user, room }]);
    return left;
  }

  async membership(user: string, room: string): Promise<Membership | undefined> {
    const row = this.stmt.one.get(user, room);
    return row === undefined ? undefined : toMembership(row);
  }

  async memberships(user: string): Promise<Membership[]> {
    return this.stmt.all.all(user).map(toMembership);
  }

  async markRead(
    user: string,
    room: string,
    seq: number,
  ): Promise<{ readSeq: number; changed: boolean } | undefined> {
    const outcome = this.db.transaction(() => {
      if (this.stmt.read.run(seq, user, room, seq).changes > 0) {
        return { readSeq: seq, changed: true };
      }
      const row = this.stmt.one.get(user, room);
      return row === undefined ? undefined : { readSeq: row.read_seq, changed: false };
    })();
    if (outcome?.changed) this.emit([{ kind: "read", user, room, readSeq: seq }]);
    return outcome;
  }

  async openConversation(
    conversation: Conversation,
    opener: string,
    openerJoinedSeq: number,
    maxRooms: number,
  ): Promise<ConversationOutcome> {
    const changes: PeopleChange[] = [];
    const outcome = this.db.transaction((): ConversationOutcome => {
      const row = this.stmt.conversation.get(conversation.id);
      const openerIn = this.stmt.one.get(opener, conversation.id) !== undefined;
      // Before anything is written: a refusal changes nothing.
      if (!openerIn) this.checkLimit(opener, maxRooms);
      const joined: ConversationOutcome["joined"] = [];
      if (row === undefined) {
        for (const user of conversation.participants) {
          if (this.stmt.one.get(user, conversation.id) === undefined) {
            this.checkLimit(user, maxRooms);
          }
        }
        const stored: Conversation = {
          id: conversation.id,
          participants: [...conversation.participants],
          createdAtMs: conversation.createdAtMs,
        };
        this.stmt.insertConversation.run(
          stored.id,
          JSON.stringify(stored.participants),
          stored.createdAtMs,
        );
        for (const user of stored.participants) {
          if (this.stmt.one.get(user, stored.id) !== undefined) continue;
          joined.push({ user, membership: this.begin(user, stored.id, 0, changes) });
        }
        return { conversation: stored, created: true, joined };
      }
      if (!openerIn) {
        const membership = this.begin(opener, conversation.id, openerJoinedSeq, changes);
        joined.push({ user: opener, membership });
      }
      return { conversation: toConversation(row), created: false, joined };
    })();
    this.emit(changes);
    return outcome;
  }

  async conversation(id: string): Promise<Conversation | undefined> {
    const row = this.stmt.conversation.get(id);
    return row === undefined ? undefined : toConversation(row);
  }

  watch(listener: (change: PeopleChange) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Throws MembershipLimitError when the user already has `maxRooms` memberships. */
  private checkLimit(user: string, maxRooms: number): void {
    const count = this.stmt.count.get(user)?.n ?? 0;
    if (count >= maxRooms) throw new MembershipLimitError(user, maxRooms);
  }

  /** Insert a membership (inside the caller's transaction) and note its change for after the commit. */
  private begin(
    user: string,
    room: string,
    joinedSeq: number,
    changes: PeopleChange[],
  ): Membership {
    const membership = { room, joinedSeq, readSeq: joinedSeq, joinedAtMs: this.now() };
    this.stmt.insert.run(user, room, joinedSeq, joinedSeq, membership.joinedAtMs);
    changes.push({ kind: "joined", user, membership: { ...membership } });
    return membership;
  }

  private emit(changes: readonly PeopleChange[]): void {
    for (const change of changes) {
      for (const watcher of this.watchers) {
        // One watcher that throws must not keep the change from the others.
        try {
          watcher(change);
        } catch {}
      }
    }
  }
}

function toMembership(row: MembershipRow): Membership {
  return {
    room: row.room,
    joinedSeq: row.joined_seq,
    readSeq: row.read_seq,
    joinedAtMs: row.joined_at,
  };
}

function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    participants: JSON.parse(row.participants) as string[],
    createdAtMs: row.created_at,
  };
}
