import type { Logger } from "../logger.js";
import type { GuestNames } from "./guest-names.js";
import type { PeopleStore } from "./people.js";

/**
 * A message as the store keeps it. Sequence numbers are plain numbers inside
 * the server (a room would need 2^53 messages to overflow them); they become
 * uint64 only at the protobuf edge.
 */
export interface StoredMessage {
  room: string;
  seq: number;
  id: string;
  author: string;
  text: string;
  /** When the store accepted the message, in milliseconds since the epoch. */
  sentAtMs: number;
  /** The client's idempotency key, or "" when it gave none. */
  clientMessageId: string;
}

/** A message to append; the store assigns room, seq, id and time. */
export interface NewMessage {
  author: string;
  text: string;
  clientMessageId: string;
}

/** The outcome of an append. */
export interface AppendResult {
  message: StoredMessage;
  /** True when client_message_id matched a stored message: nothing new was stored. */
  duplicate: boolean;
}

/** Where a room's log stands. */
export interface RoomHead {
  /**
   * The id of this incarnation of the room's log. For a room never written:
   * the epoch its first append will keep, on engines that can name it
   * without storing anything (memory, SQLite: derived from the store's
   * incarnation and the name), or "" on those that cannot (Redis).
   */
  epoch: string;
  /** The newest seq, 0 when the room has no messages yet. */
  lastSeq: number;
  /** The oldest retained seq, 0 when the room has no messages yet. */
  firstSeq: number;
}

/** A room with stored messages, as listRooms returns it. */
export interface RoomListing {
  room: string;
  /** The newest seq (at least 1). */
  lastSeq: number;
  /** When the newest message was stored, in milliseconds since the epoch. */
  lastSentAtMs: number;
}

/** Which messages a read returns: always ascending by seq. */
export interface ReadRange {
  /** Only seq > afterSeq (0: no lower bound). */
  afterSeq: number;
  /** Only seq < beforeSeq (0: no upper bound). */
  beforeSeq: number;
  /** At most this many messages. */
  limit: number;
  /** Take the newest `limit` messages of the range instead of the oldest. */
  newest: boolean;
}

/**
 * The message log every store engine implements. Each room is an append-only
 * log with gapless seqs 1, 2, 3 … and an epoch; a room exists from its first
 * append. Reads (head, read, listRooms) store nothing, so naming rooms costs
 * a reader nothing the server keeps.
 *
 * Promises a store keeps (the conformance suite in test/store checks them):
 * - appends to one room resolve in the order they were called, with
 *   consecutive seqs;
 * - an append that resolved is durable to the engine's standard;
 * - a repeated non-empty clientMessageId in a room returns the stored message
 *   with duplicate = true, while that message is retained, when author and
 *   text are the same; with another author or text it fails with
 *   retryConflict's ALREADY_EXISTS (src/store/idempotency.ts) and stores nothing;
 * - retention keeps the newest `retention` messages of each room.
 */
export interface MessageLog {
  /** Append one message to a room, creating the room if needed. */
  append(room: string, message: NewMessage): Promise<AppendResult>;
  /** Read stored messages of a room (none for an unknown room). */
  read(room: string, range: ReadRange): Promise<StoredMessage[]>;
  /**
   * Rooms that have at least one message and whose name sorts after
   * `afterRoom` ("" for all), ascending by name (code unit order), at most `limit`.
   */
  listRooms(afterRoom: string, limit: number): Promise<RoomListing[]>;
  /** The room's epoch and seq bounds; for a room never written, lastSeq and firstSeq 0, and it stays unwritten. */
  head(room: string): Promise<RoomHead>;
  /** Finish pending writes and release the engine. */
  close(): Promise<void>;
  /**
   * Messages appended by any process sharing this store, for engines that
   * several servers share (Redis); absent on engines one process owns.
   */
  readonly live?: LiveMessages;
  /**
   * False while the engine cannot serve calls (its server is unreachable),
   * for health checks to answer NOT_SERVING; absent on embedded engines,
   * which always can.
   */
  serving?(): boolean;
  /** Room members across the processes sharing this store; absent on engines one process owns. */
  readonly presence?: SharedPresence;
  /** Guest names and their keys, kept as durably as the messages and shared like them. */
  readonly guestNames: GuestNames;
  /** Memberships, read positions and conversations, kept and shared like the guest names. */
  readonly people: PeopleStore;
}

/** Receives one room's messages from a LiveMessages watch. */
export interface LiveListener {
  /**
   * A message just appended to the room, by this process or another. Called
   * in seq order but at most once: messages appended while the watch was
   * broken are never delivered here (see resumed).
   */
  message(message: StoredMessage): void;
  /**
   * The watch is (again) in place: every message appended from now on
   * reaches message(). Messages appended before, while it was being set up
   * or broken, must be read from the log.
   */
  resumed(): void;
  /** A change to the room's shared member list (see SharedPresence), in version order, at most once. */
  presence?(change: PresenceChange): void;
  /** Someone is typing in the room (or stopped), as SharedPresence.typing said on some process. */
  typing?(author: string, stopped: boolean, node: string): void;
}

/** A room member as the processes sharing a store see it. */
export interface SharedMember {
  memberId: string;
  author: string;
  /** The process (SharedPresence.nodeId) whose subscriber it is. */
  node: string;
}

/** One change to a room's shared member list. */
export interface PresenceChange extends SharedMember {
  kind: "join" | "leave";
  /** The list's version after this change: 1, 2, 3 … per room; a jump means one was missed. */
  version: number;
}

/**
 * Who is subscribed to each room, across the processes sharing a store.
 * Each process announces its own subscribers; a process that dies without
 * saying goodbye stops its heartbeats, and the others remove its members
 * (each removal is a leave change like any other).
 */
export interface SharedPresence {
  /** This process's id among those sharing the store. */
  readonly nodeId: string;
  /** Announce a subscriber of this process (in the background; retried after a reconnect). */
  join(room: string, memberId: string, author: string): void;
  /** Withdraw a subscriber of this process (in the background). */
  leave(room: string, memberId: string): void;
  /** Tell every process that an author is typing in a room, or stopped (at most once, unordered with messages). */
  typing(room: string, author: string, stopped: boolean): void;
  /** The room's members on every process, and the list's version. */
  members(room: string): Promise<{ version: number; members: SharedMember[] }>;
  /**
   * Rooms where the other processes have members now, whose name sorts after
   * `afterRoom` ("" for all), ascending by name, at most `limit`, each with
   * how many members the other processes have there together.
   */
  roomsElsewhere(afterRoom: string, limit: number): Promise<RoomMemberCount[]>;
}

/** How many members a room has (on some set of processes). */
export interface RoomMemberCount {
  room: string;
  memberCount: number;
}

/** Live delivery of appended messages across the processes sharing a store. */
export interface LiveMessages {
  /** Watch a room until the returned function is called. */
  watch(room: string, listener: LiveListener): () => void;
}

/** Options every engine takes. */
export interface LogOptions {
  /** How many newest messages each room keeps. */
  retention: number;
  /** Where an engine reports conditions worth an operator's attention (a risky durability setting). */
  logger?: Logger;
}
