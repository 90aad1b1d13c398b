/**
 * Where a room lives in Redis. Every key of a room, and its pub/sub channel,
 * carries the room name as one hash tag, so on a cluster a room is one slot:
 * the append script may touch all of them, and SPUBLISH reaches the shard
 * that owns the room.
 */
export interface RoomKeys {
  /** Hash: epoch, seq (the last seq handed out), at (when the newest message was stored). */
  meta: string;
  /** Stream of messages; entry id `<seq>-0`, capped at the retention. */
  log: string;
  /** Sorted set: client_message_id -> seq, for retained messages. */
  ids: string;
  /** Pub/sub channel on which each append publishes its message (and each presence change). */
  channel: string;
  /** Hash: member id -> "<node id> <author>", and "#v", the count of changes (redis-presence-scripts.ts). */
  members: string;
}

/** Sorted set of every room that was ever appended to (score 0, ordered by name). */
export const ROOMS_KEY = "parley:rooms";

const PREFIX = "parley:{";

/** Sorted set of the nodes sharing this Redis, scored by their last heartbeat (ms). */
export const NODES_KEY = "parley:nodes";

/** Set of the rooms where a node has (had) members, for removing them when the node dies. */
export function nodeRoomsKey(node: string): string {
  return `parley:node-rooms:{${node}}`;
}

/**
 * Sorted set (all scores 0, so ordered by member) of the rooms where a node
 * has members now, each as "<room> <count>": ListRooms pages through it by
 * name (a space sorts before every room-name character) and reads the counts
 * with it, one command per node whatever the number of rooms.
 */
export function nodeMemberRoomsKey(node: string): string {
  return `parley:node-member-rooms:{${node}}`;
}

/** The keys and channel of one room. Room names never contain braces (the contract's a-z 0-9 _ -). */
export function roomKeys(room: string): RoomKeys {
  const tag = `${PREFIX}${room}}`;
  return {
    meta: `${tag}:meta`,
    log: `${tag}:log`,
    ids: `${tag}:ids`,
    channel: `${tag}:live`,
    members: `${tag}:members`,
  };
}

/** The room a channel made by roomKeys belongs to, or undefined for any other channel. */
export function roomOfChannel(channel: string): string | undefined {
  if (!channel.startsWith(PREFIX) || !channel.endsWith("}:live")) return undefined;
  return channel.slice(PREFIX.length, -"}:live".length);
}

/**
 * Hash of one guest name (guest-names.ts): k key hash, u last use (ms), t
 * newest token's expiry (ms); it expires by itself once it holds the name no longer.
 */
export function guestNameKey(name: string): string {
  return `parley:guest:{${name}}`;
}

/**
 * Hash of one user's memberships (people.ts): room -> "<joinedSeq>
 * <readSeq> <joinedAtMs>". The name is in base64url inside the hash tag,
 * since a user name may hold any character, braces included; so each of a
 * user's steps is one key, one cluster slot.
 */
export function peopleKey(user: string): string {
  return `parley:people:{u:${Buffer.from(user, "utf8").toString("base64url")}}`;
}

/**
 * Hash of one conversation: p its participants (a JSON array), at when it
 * was opened (ms), done "1" once every participant was made a member.
 * Conversation ids are "dm." and base32: no braces.
 */
export function conversationKey(id: string): string {
  return `parley:conversation:{${id}}`;
}

/**
 * The channel every change to memberships and read positions is published
 * on, as JSON (a PeopleChange), by the script that made it. Plain (not
 * sharded) pub/sub: on a cluster, PUBLISH reaches the subscribers of every
 * node, and every node's watchers want every user's changes.
 */
export const PEOPLE_CHANNEL = "parley:people:live";
