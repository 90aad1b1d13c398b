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
  /** The id of this incarnation of the room's log. */
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
 * log with gapless seqs 1, 2, 3 … and an epoch; a room exists from the first
 * time anyone touches it.
 *
 * Promises a store keeps (the conformance suite in test/store checks them):
 * - appends to one room resolve in the order they were called, with
 *   consecutive seqs;
 * - an append that resolved is durable to the engine's standard;
 * - a repeated non-empty clientMessageId in a room returns the stored message
 *   with duplicate = true, while that message is retained;
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
  /** The room's epoch and seq bounds, creating the room if needed. */
  head(room: string): Promise<RoomHead>;
  /** Finish pending writes and release the engine. */
  close(): Promise<void>;
}

/** Options every engine takes. */
export interface LogOptions {
  /** How many newest messages each room keeps. */
  retention: number;
}
