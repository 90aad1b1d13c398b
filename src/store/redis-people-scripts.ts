/**
 * The Lua scripts of RedisPeople. Each touches one key (a user's membership
 * hash, or a conversation's hash), so it runs atomically on the one cluster
 * slot that owns it, and publishes the change it made (ARGV: the channel and
 * the payload, built by the caller) in the same step: a change is published
 * once, in the order the user's changes were applied, and never when nothing
 * changed.
 */

/**
 * Join, unless already a member; refuse at the limit.
 * KEYS: the user's hash. ARGV: room, joinedSeq, maxRooms, joinedAtMs, channel, payload.
 * Returns {1, value} when joined, {0, stored value} when already a member,
 * {-1, ""} at the limit.
 */
export const PEOPLE_JOIN_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then return {0, cur} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return {-1, ''} end
local v = ARGV[2] .. ' ' .. ARGV[2] .. ' ' .. ARGV[4]
redis.call('HSET', KEYS[1], ARGV[1], v)
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {1, v}
`;

/**
 * End a membership. KEYS: the user's hash. ARGV: room, channel, payload.
 * Returns 1 when there was one, else 0.
 */
export const PEOPLE_LEAVE_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/**
 * Move the read position forward only. KEYS: the user's hash. ARGV: room,
 * seq, channel, payload. Returns {1, seq} when it moved, {0, stored read
 * seq} when seq was not ahead, {-1, ""} when the user is not a member.
 */
export const PEOPLE_READ_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {-1, ''} end
local j, r, at = string.match(cur, '^(%d+) (%d+) (%d+)$')
if tonumber(ARGV[2]) <= tonumber(r) then return {0, r} end
redis.call('HSET', KEYS[1], ARGV[1], j .. ' ' .. ARGV[2] .. ' ' .. at)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {1, ARGV[2]}
`;

/**
 * Store a conversation unless one with its key exists.
 * KEYS: the conversation's hash. ARGV: participants (JSON), opened at (ms).
 * Returns 1 when stored, 0 when it existed.
 */
export const CONVERSATION_CREATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'p', ARGV[1], 'at', ARGV[2])
return 1
`;
