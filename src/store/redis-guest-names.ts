import type { Cluster, Redis, Result } from "ioredis";
import type { GuestNameClaim, GuestNameOutcome, GuestNames } from "./guest-names.js";
import { redisCallError } from "./redis-errors.js";
import { guestNameKey } from "./redis-keys.js";

/**
 * One claim, atomically: decideClaim (guest-names.ts) in Lua, on the name's
 * one hash, so two nodes sharing the Redis never both claim a free name. The
 * hash expires by itself when it stops holding the name (the later of last
 * use plus the hold and the newest token's expiry).
 *
 * KEYS: the name's hash (redis-keys.ts guestNameKey).
 * ARGV: shown key hash ("" for none), renewing (1|0), in use (1|0), fresh
 * key hash, now ms, new token's expiry ms, hold ms.
 * Returns the outcome: claimed, reclaimed, renewed or held.
 */
export const GUEST_CLAIM_LUA = `
local key = KEYS[1]
local shown, renewing, inuse, fresh = ARGV[1], ARGV[2] == '1', ARGV[3] == '1', ARGV[4]
local now, tokenuntil, hold = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local r = redis.call('HMGET', key, 'k', 'u', 't')
local held = false
if r[1] then held = (tonumber(r[2]) + hold > now) or (tonumber(r[3]) > now) end
local function keep(k, t)
  redis.call('HSET', key, 'k', k, 'u', string.format('%d', now), 't', string.format('%d', t))
  redis.call('PEXPIREAT', key, string.format('%d', math.max(now + hold, t)))
end
if held and shown ~= '' and shown == r[1] then
  keep(r[1], math.max(tonumber(r[3]), tokenuntil))
  return 'reclaimed'
end
if held and renewing then
  keep(r[1], math.max(tonumber(r[3]), tokenuntil))
  return 'renewed'
end
if (not renewing) and (held or inuse) then return 'held' end
keep(fresh, tokenuntil)
return 'claimed'
`;

/** Guest names in the Redis the nodes share. */
export class RedisGuestNames implements GuestNames {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly where: string,
  ) {
    client.defineCommand("parleyGuestClaim", { numberOfKeys: 1, lua: GUEST_CLAIM_LUA });
  }

  async claim(c: GuestNameClaim): Promise<GuestNameOutcome> {
    try {
      return await this.client.parleyGuestClaim(
        guestNameKey(c.name),
        c.shownKeyHash,
        c.renewing ? 1 : 0,
        c.inUse ? 1 : 0,
        c.freshKeyHash,
        Math.round(c.nowMs),
        Math.round(c.tokenUntilMs),
        Math.round(c.holdMs),
      );
    } catch (error) {
      throw redisCallError(error, this.where, `claim guest name ${JSON.stringify(c.name)}`);
    }
  }
}

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** GUEST_CLAIM_LUA, defined on each store client with defineCommand. */
    parleyGuestClaim(
      key: string,
      shownKeyHash: string,
      renewing: 0 | 1,
      inUse: 0 | 1,
      freshKeyHash: string,
      nowMs: number,
      tokenUntilMs: number,
      holdMs: number,
    ): Result<GuestNameOutcome, Context>;
  }
}
