import type { Result } from "ioredis";

/*
 * Who is subscribed where, across the processes ("nodes") sharing Redis.
 * Each room has a hash of members (member id -> "<node id> <author>") under
 * the room's hash tag, with a "#v" field counting its changes. Each change is
 * published on the room's channel as {p: "j"|"l", v, m, a, n}, so a node that
 * sees v jump knows it missed one and reads the hash again.
 *
 * A hash left with no member (only "#v") expires after EMPTY_MEMBERS_TTL_S,
 * so subscribing to a name costs Redis nothing for good (issue 11 point 7).
 * Not at once: the counter must not restart under a node that still follows
 * the room (one whose own join failed while Redis was away, say), which would
 * take the new, lower versions for stale ones. A join makes the hash persist.
 */

/** How long a room's member hash outlives its last member, in seconds. */
export const EMPTY_MEMBERS_TTL_S = 3600;

/**
 * Add a member. KEYS: members, channel. ARGV: member id, node id, author,
 * publish command. Returns the new version, or 0 when it was already there.
 */
export const JOIN_LUA = `
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3]) == 0 then return 0 end
redis.call('PERSIST', KEYS[1])
local v = redis.call('HINCRBY', KEYS[1], '#v', 1)
redis.call(ARGV[4], KEYS[2], cjson.encode({p = 'j', v = v, m = ARGV[1], a = ARGV[3], n = ARGV[2]}))
return v
`;

/**
 * Remove members: one by id (ARGV[1] = member id, ARGV[2] = ""), or every
 * member of a node (ARGV[1] = "", ARGV[2] = node id). KEYS: members,
 * channel. ARGV[3]: publish command. Returns how many left.
 */
export const LEAVE_LUA = `
local function leave(member, entry)
  local sp = string.find(entry, ' ', 1, true)
  redis.call('HDEL', KEYS[1], member)
  local v = redis.call('HINCRBY', KEYS[1], '#v', 1)
  redis.call(ARGV[3], KEYS[2], cjson.encode({p = 'l', v = v, m = member,
    a = string.sub(entry, sp + 1), n = string.sub(entry, 1, sp - 1)}))
  if redis.call('HLEN', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ${EMPTY_MEMBERS_TTL_S}) end
end
if ARGV[1] ~= '' then
  local entry = redis.call('HGET', KEYS[1], ARGV[1])
  if not entry then return 0 end
  leave(ARGV[1], entry)
  return 1
end
local all = redis.call('HGETALL', KEYS[1])
local prefix = ARGV[2] .. ' '
local n = 0
for i = 1, #all, 2 do
  if all[i] ~= '#v' and string.sub(all[i + 1], 1, #prefix) == prefix then
    leave(all[i], all[i + 1])
    n = n + 1
  end
end
return n
`;

/**
 * A node's heartbeat. KEYS: the nodes sorted set (score: last beat, Redis
 * time in ms). ARGV: node id, how long a node may stay silent (ms).
 * Returns {1 if this node was not listed (new, or given up for dead), the
 * ids of nodes silent for longer than allowed}.
 */
export const HEARTBEAT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - tonumber(ARGV[2])))
return {added, dead}
`;

/**
 * Set how many members this node has in a room. KEYS: the node's member
 * rooms (redis-keys.ts nodeMemberRoomsKey). ARGV: room, count (0 removes
 * the room). Whatever count was there before goes, so a write that failed
 * earlier leaves nothing stale behind the next one.
 */
export const ROOM_COUNT_LUA = `
redis.call('ZREMRANGEBYLEX', KEYS[1], '[' .. ARGV[1] .. ' ', '(' .. ARGV[1] .. '!')
if tonumber(ARGV[2]) > 0 then redis.call('ZADD', KEYS[1], 0, ARGV[1] .. ' ' .. ARGV[2]) end
return 0
`;

/**
 * Replace every count of this node's member rooms at once (after a
 * reconnect). KEYS: the node's member rooms. ARGV: "<room> <count>" each.
 */
export const ALL_ROOM_COUNTS_LUA = `
redis.call('DEL', KEYS[1])
for i = 1, #ARGV do redis.call('ZADD', KEYS[1], 0, ARGV[i]) end
return #ARGV
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** JOIN_LUA. */
    parleyJoin(
      members: string,
      channel: string,
      memberId: string,
      node: string,
      author: string,
      publish: string,
    ): Result<number, Context>;
    /** LEAVE_LUA. */
    parleyLeave(
      members: string,
      channel: string,
      memberId: string,
      node: string,
      publish: string,
    ): Result<number, Context>;
    /** ROOM_COUNT_LUA. */
    parleyRoomCount(memberRooms: string, room: string, count: number): Result<number, Context>;
    /** ALL_ROOM_COUNTS_LUA. */
    parleyAllRoomCounts(memberRooms: string, ...entries: string[]): Result<number, Context>;
    /** HEARTBEAT_LUA. */
    parleyHeartbeat(
      nodes: string,
      node: string,
      silentMs: number,
    ): Result<[number, string[]], Context>;
  }
}
