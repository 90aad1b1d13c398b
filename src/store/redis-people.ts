import type { Cluster, Redis, Result } from "ioredis";
import {
  type Conversation,
  type ConversationOutcome,
  type JoinOutcome,
  type Membership,
  MembershipLimitError,
  type PeopleChange,
  type PeopleStore,
} from "./people.js";
import { redisCallError } from "./redis-errors.js";
import { conversationKey, PEOPLE_CHANNEL, peopleKey } from "./redis-keys.js";
import type { RedisLive } from "./redis-live.js";
import {
  CONVERSATION_CREATE_LUA,
  PEOPLE_JOIN_LUA,
  PEOPLE_LEAVE_LUA,
  PEOPLE_READ_LUA,
} from "./redis-people-scripts.js";

/** The limit given for participants added to a new conversation: being added is not joining. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Memberships, read positions and conversations in the Redis the nodes
 * share (keys in redis-keys.ts). Each user's memberships are one hash, so
 * every step on them is one script on one cluster slot, which also
 * publishes the change on PEOPLE_CHANNEL; every node's watchers hear every
 * change from there, this node's own included, once each.
 *
 * A conversation's record is another key (another slot), so opening one is
 * several steps, each safe to repeat: the opener joins (the only step that
 * may be refused, so a refusal changes nothing), the record is stored if
 * missing, the other participants join, and the record is marked done. An
 * open that finds a record not marked done (a crash, or a racing open)
 * finishes those steps instead of taking the conversation for complete.
 */
export class RedisPeople implements PeopleStore {
  private readonly watchers = new Set<(change: PeopleChange) => void>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly live: RedisLive,
    /** The server, as errors name it. */
    private readonly where: string,
    private readonly now: () => number = Date.now,
  ) {
    client.defineCommand("parleyPeopleJoin", { numberOfKeys: 1, lua: PEOPLE_JOIN_LUA });
    client.defineCommand("parleyPeopleLeave", { numberOfKeys: 1, lua: PEOPLE_LEAVE_LUA });
    client.defineCommand("parleyPeopleRead", { numberOfKeys: 1, lua: PEOPLE_READ_LUA });
    client.defineCommand("parleyConversationCreate", {
      numberOfKeys: 1,
      lua: CONVERSATION_CREATE_LUA,
    });
  }

  async join(
    user: string,
    room: string,
    joinedSeq: number,
    maxRooms: number,
  ): Promise<JoinOutcome> {
    return this.tryJoin(user, room, joinedSeq, maxRooms);
  }

  async leave(user: string, room: string): Promise<boolean> {
    const change: PeopleChange = { kind: "left", user, room };
    try {
      const left = await this.client.parleyPeopleLeave(
        peopleKey(user),
        room,
        PEOPLE_CHANNEL,
        JSON.stringify(change),
      );
      return left === 1;
    } catch (error) {
      throw redisCallError(error, this.where, `end the membership of ${user} in ${room}`);
    }
  }

  async membership(user: string, room: string): Promise<Membership | undefined> {
    let value: string | null;
    try {
      value = await this.client.hget(peopleKey(user), room);
    } catch (error) {
      throw redisCallError(error, this.where, `read the membership of ${user} in ${room}`);
    }
    return value === null ? undefined : decodeMembership(room, value);
  }

  async memberships(user: string): Promise<Membership[]> {
    let all: Record<string, string>;
    try {
      all = await this.client.hgetall(peopleKey(user));
    } catch (error) {
      throw redisCallError(error, this.where, `list the memberships of ${user}`);
    }
    return Object.entries(all)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([room, value]) => decodeMembership(room, value));
  }

  async markRead(
    user: string,
    room: string,
    seq: number,
  ): Promise<{ readSeq: number; changed: boolean } | undefined> {
    const change: PeopleChange = { kind: "read", user, room, readSeq: seq };
    let outcome: [number, string];
    try {
      outcome = await this.client.parleyPeopleRead(
        peopleKey(user),
        room,
        String(seq),
        PEOPLE_CHANNEL,
        JSON.stringify(change),
      );
    } catch (error) {
      throw redisCallError(error, this.where, `mark ${room} read for ${user}`);
    }
    const [code, readSeq] = outcome;
    if (code === -1) return undefined;
    return { readSeq: Number(readSeq), changed: code === 1 };
  }

  async openConversation(
    conversation: Conversation,
    opener: string,
    openerJoinedSeq: number,
    maxRooms: number,
  ): Promise<ConversationOutcome> {
    const key = conversationKey(conversation.id);
    const found = await this.readConversation(conversation.id);
    if (found?.done) {
      const { membership, created } = await this.tryJoin(
        opener,
        conversation.id,
        openerJoinedSeq,
        maxRooms,
      );
      const joined = created ? [{ user: opener, membership }] : [];
      return { conversation: found.conversation, created: false, joined };
    }
    // New, or its opening never finished: every participant joins at 0.
    if (found === undefined) await this.checkRoomFor(conversation, opener, maxRooms);
    const joined: ConversationOutcome["joined"] = [];
    const first = await this.tryJoin(opener, conversation.id, 0, maxRooms);
    if (first.created) joined.push({ user: opener, membership: first.membership });
    let created: boolean;
    try {
      created =
        (await this.client.parleyConversationCreate(
          key,
          JSON.stringify(conversation.participants),
          Math.round(conversation.createdAtMs),
        )) === 1;
    } catch (error) {
      throw redisCallError(error, this.where, `store conversation ${conversation.id}`);
    }
    const stored = created
      ? { ...conversation, participants: [...conversation.participants] }
      : ((await this.readConversation(conversation.id))?.conversation ?? conversation);
    const others = stored.participants.filter((user) => user !== opener);
    const outcomes = await Promise.all(
      others.map((user) => this.tryJoin(user, stored.id, 0, NO_LIMIT)),
    );
    outcomes.forEach((o, i) => {
      if (o.created) joined.push({ user: others[i] as string, membership: o.membership });
    });
    try {
      await this.client.hset(key, "done", "1");
    } catch (error) {
      throw redisCallError(error, this.where, `store conversation ${conversation.id}`);
    }
    // In participant order, as the other engines answer.
    const rank = (user: string) => stored.participants.indexOf(user);
    joined.sort((a, b) => rank(a.user) - rank(b.user));
    return { conversation: stored, created, joined };
  }

  async conversation(id: string): Promise<Conversation | undefined> {
    return (await this.readConversation(id))?.conversation;
  }

  watch(listener: (change: PeopleChange) => void): () => void {
    this.watchers.add(listener);
    this.watching().catch(() => {
      // No connection: the subscriber subscribes again once it reconnects.
    });
    return () => this.watchers.delete(listener);
  }

  /** Subscribes to PEOPLE_CHANNEL once (for as long as the store is open); resolves when subscribed. */
  watching(): Promise<void> {
    if (this.subscribed === undefined) {
      const subscribing = this.live.listen(
        PEOPLE_CHANNEL,
        (payload) => this.deliver(payload),
        () => this.emit({ kind: "lost", user: "" }),
      );
      this.subscribed = subscribing.catch((error: unknown) => {
        // Let the next call try again.
        this.subscribed = undefined;
        throw redisCallError(error, this.where, "watch changes to memberships");
      });
    }
    return this.subscribed;
  }

  /**
   * Throw MembershipLimitError for the first participant besides the opener
   * that is not a member and already has `maxRooms` memberships, before the
   * conversation is written (the opener's own join checks the opener). A
   * check, then the writes: a join elsewhere in between may take the last
   * place, so on Redis the limit can be passed by the joins that race it.
   */
  private async checkRoomFor(
    conversation: Conversation,
    opener: string,
    maxRooms: number,
  ): Promise<void> {
    const others = conversation.participants.filter((user) => user !== opener);
    // One read per user: each user's key may live on another cluster slot.
    let counts: { user: string; member: number; count: number }[];
    try {
      counts = await Promise.all(
        others.map(async (user) => ({
          user,
          member: await this.client.hexists(peopleKey(user), conversation.id),
          count: await this.client.hlen(peopleKey(user)),
        })),
      );
    } catch (error) {
      throw redisCallError(error, this.where, `count the memberships of ${others.join(", ")}`);
    }
    for (const { user, member, count } of counts) {
      if (member === 0 && count >= maxRooms) throw new MembershipLimitError(user, maxRooms);
    }
  }

  private async tryJoin(
    user: string,
    room: string,
    joinedSeq: number,
    maxRooms: number,
  ): Promise<JoinOutcome> {
    const membership: Membership = { room, joinedSeq, readSeq: joinedSeq, joinedAtMs: this.now() };
    const change: PeopleChange = { kind: "joined", user, membership };
    let outcome: [number, string];
    try {
      outcome = await this.client.parleyPeopleJoin(
        peopleKey(user),
        room,
        String(joinedSeq),
        Math.min(maxRooms, NO_LIMIT),
        String(Math.round(membership.joinedAtMs)),
        PEOPLE_CHANNEL,
        JSON.stringify(change),
      );
    } catch (error) {
      throw redisCallError(error, this.where, `make ${user} a member of ${room}`);
    }
    const [code, value] = outcome;
    if (code === -1) throw new MembershipLimitError(user, maxRooms);
    return { membership: decodeMembership(room, value), created: code === 1 };
  }

  private async readConversation(
    id: string,
  ): Promise<{ conversation: Conversation; done: boolean } | undefined> {
    let fields: (string | null)[];
    try {
      fields = await this.client.hmget(conversationKey(id), "p", "at", "done");
    } catch (error) {
      throw redisCallError(error, this.where, `read conversation ${id}`);
    }
    const [participants, at, done] = fields;
    if (participants === null || participants === undefined) return undefined;
    return {
      conversation: {
        id,
        participants: JSON.parse(participants) as string[],
        createdAtMs: Number(at),
      },
      done: done === "1",
    };
  }

  private deliver(payload: string): void {
    let change: PeopleChange;
    try {
      change = JSON.parse(payload) as PeopleChange;
    } catch {
      return;
    }
    this.emit(change);
  }

  private emit(change: PeopleChange): void {
    for (const watcher of this.watchers) {
      // One watcher that throws must not keep the change from the others.
      try {
        watcher(change);
      } catch {}
    }
  }
}

/** A membership from its hash value, "<joinedSeq> <readSeq> <joinedAtMs>". */
function decodeMembership(room: string, value: string): Membership {
  const [joinedSeq, readSeq, joinedAtMs] = value.split(" ").map(Number);
  return {
    room,
    joinedSeq: joinedSeq ?? 0,
    readSeq: readSeq ?? 0,
    joinedAtMs: joinedAtMs ?? 0,
  };
}

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** PEOPLE_JOIN_LUA, defined on each store client with defineCommand. */
    parleyPeopleJoin(
      key: string,
      room: string,
      joinedSeq: string,
      maxRooms: number,
      joinedAtMs: string,
      channel: string,
      payload: string,
    ): Result<[number, string], Context>;
    /** PEOPLE_LEAVE_LUA. */
    parleyPeopleLeave(
      key: string,
      room: string,
      channel: string,
      payload: string,
    ): Result<number, Context>;
    /** PEOPLE_READ_LUA. */
    parleyPeopleRead(
      key: string,
      room: string,
      seq: string,
      channel: string,
      payload: string,
    ): Result<[number, string], Context>;
    /** CONVERSATION_CREATE_LUA. */
    parleyConversationCreate(
      key: string,
      participants: string,
      createdAtMs: number,
    ): Result<number, Context>;
  }
}
