import type { Result } from "ioredis";

/**
 * One append, atomically: epoch get-or-create, idempotency-key check, next
 * seq, XADD capped at the retention, remember the key (and forget the keys of
 * trimmed messages), publish the message. Because the publish happens inside
 * the script, publish order is seq order.
 *
 * KEYS: meta, log, ids, channel (redis-keys.ts; one hash tag).
 * ARGV: epoch for a new room, message id, author, text, client_message_id
 * ("" for none), retention, publish command (PUBLISH, or SPUBLISH on a cluster).
 * Returns {duplicate (0|1), entry id "<seq>-0", {field, value, …}} where the
 * fields are the stream entry's: i id, a author, t text, w stored-at ms, c key.
 * The time is the Redis server's, one clock for every node.
 */
export const APPEND_LUA = `
local meta, log, ids, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cid = ARGV[5]
redis.call('HSETNX', meta, 'epoch', ARGV[1])
if cid ~= '' then
  local prior = redis.call('ZSCORE', ids, cid)
  if prior then
    local entry = prior .. '-0'
    local found = redis.call('XRANGE', log, entry, entry)[1]
    if found then return {1, found[1], found[2]} end
    redis.call('ZREM', ids, cid)
  end
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
local now = redis.call('TIME')
local at = string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
local entry = string.format('%d-0', seq)
local fields = {'i', ARGV[2], 'a', ARGV[3], 't', ARGV[4], 'w', at}
if cid ~= '' then
  fields[9] = 'c'
  fields[10] = cid
end
redis.call('XADD', log, 'MAXLEN', ARGV[6], entry, unpack(fields))
redis.call('HSET', meta, 'at', at)
if cid ~= '' then redis.call('ZADD', ids, seq, cid) end
if seq > tonumber(ARGV[6]) then
  local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1][1]
  redis.call('ZREMRANGEBYSCORE', ids, '-inf', '(' .. string.match(first, '^%d+'))
end
redis.call(ARGV[7], channel, cjson.encode({entry, ARGV[2], ARGV[3], ARGV[4], at, cid}))
return {0, entry, fields}
`;

/**
 * A room's head, read in one step so epoch, last seq and first entry agree.
 * It writes nothing: a room comes into being only on its first append.
 * KEYS: meta, log.
 * Returns {epoch ("" for a room never written), last seq, first entry id
 * ("0-0" when the log is empty)}.
 */
export const HEAD_LUA = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
return {m[1] or '', m[2] or '0', first and first[1] or '0-0'}
`;

/** What the append script returns. */
export type AppendReply = [0 | 1, string, string[]];
/** What the head script returns. */
export type HeadReply = [string, string, string];

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** APPEND_LUA, defined on each store client with defineCommand. */
    parleyAppend(
      meta: string,
      log: string,
      ids: string,
      channel: string,
      epoch: string,
      id: string,
      author: string,
      text: string,
      clientMessageId: string,
      retention: number,
      publish: "PUBLISH" | "SPUBLISH",
    ): Result<AppendReply, Context>;
    /** HEAD_LUA, defined on each store client with defineCommand. */
    parleyHead(meta: string, log: string): Result<HeadReply, Context>;
  }
}
