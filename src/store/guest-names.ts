/**
 * What the store keeps of a guest name: the hash of its key, when it was
 * last used, and how long its newest token holds it.
 */
export interface GuestNameRecord {
  /** sha256 of the name's guest key, hex. */
  keyHash: string;
  /** The last Login that showed the key or a live token, ms since the epoch. */
  lastUsedMs: number;
  /** Until when the newest token issued for the name is taken (its exp plus the clock skew), ms since the epoch. */
  tokenUntilMs: number;
}

/** One Login's request for a name, as the store decides it. */
export interface GuestNameClaim {
  /** The name, trimmed and checked. */
  name: string;
  /** sha256 (hex) of the key the caller showed, "" when it showed none. */
  shownKeyHash: string;
  /** The caller showed a live token whose subject is this name. */
  renewing: boolean;
  /** A live member (a subscriber) uses the name. */
  inUse: boolean;
  /** sha256 (hex) of a fresh key, kept when the call claims the name anew. */
  freshKeyHash: string;
  /** The time of the call, ms since the epoch. */
  nowMs: number;
  /** Until when the token this call is given is taken (exp plus the clock skew): the name is held at least until then. */
  tokenUntilMs: number;
  /** How long after its last use a name stays held for its key. */
  holdMs: number;
}

/**
 * What a claim did. claimed: the name was free and now belongs to the fresh
 * key. reclaimed: the caller showed the name's key. renewed: the caller
 * showed a live token for the name (the key is unchanged). held: someone
 * else holds the name; nothing changed.
 */
export type GuestNameOutcome = "claimed" | "reclaimed" | "renewed" | "held";

/**
 * Guest names as the processes sharing a store see them: each claim is
 * decided and recorded in one atomic step, so two processes never give out
 * one free name. Kept with the messages, so it outlives restarts.
 */
export interface GuestNames {
  /** Decide a Login's claim to a name (see decideClaim) and record the result. */
  claim(claim: GuestNameClaim): Promise<GuestNameOutcome>;
}

/** Whether a record still holds its name at `nowMs`: used within the hold, or a token still live. */
export function stillHeld(record: GuestNameRecord, nowMs: number, holdMs: number): boolean {
  return record.lastUsedMs + holdMs > nowMs || record.tokenUntilMs > nowMs;
}

/**
 * The rule every engine applies (the Redis script repeats it in Lua): the
 * name's key wins; then a live token for the name renews it; a name held by
 * a record or a live member is refused; a free name is claimed with the
 * fresh key. Returns the outcome and the record to store (undefined: keep).
 */
export function decideClaim(
  record: GuestNameRecord | undefined,
  c: GuestNameClaim,
): { outcome: GuestNameOutcome; record: GuestNameRecord | undefined } {
  const held = record !== undefined && stillHeld(record, c.nowMs, c.holdMs);
  if (held && c.shownKeyHash !== "" && c.shownKeyHash === record.keyHash) {
    return { outcome: "reclaimed", record: used(record, c) };
  }
  if (held && c.renewing) return { outcome: "renewed", record: used(record, c) };
  if (!c.renewing && (held || c.inUse)) return { outcome: "held", record: undefined };
  const fresh = { keyHash: c.freshKeyHash, lastUsedMs: c.nowMs, tokenUntilMs: c.tokenUntilMs };
  return { outcome: "claimed", record: fresh };
}

function used(record: GuestNameRecord, c: GuestNameClaim): GuestNameRecord {
  return {
    keyHash: record.keyHash,
    lastUsedMs: c.nowMs,
    tokenUntilMs: Math.max(record.tokenUntilMs, c.tokenUntilMs),
  };
}

/** Records dropped per sweep of the in-process engine, at most. */
const SWEEP_EVERY = 1024;

/** Guest names in this process only (the memory store): gone with the process. */
export class MemoryGuestNames implements GuestNames {
  private readonly records = new Map<string, GuestNameRecord>();
  private claims = 0;

  async claim(claim: GuestNameClaim): Promise<GuestNameOutcome> {
    const { outcome, record } = decideClaim(this.records.get(claim.name), claim);
    if (record !== undefined) this.records.set(claim.name, record);
    if (++this.claims % SWEEP_EVERY === 0) this.sweep(claim.nowMs, claim.holdMs);
    return outcome;
  }

  /** Forget names nobody holds any more, so memory stays bounded by names in use. */
  private sweep(nowMs: number, holdMs: number): void {
    for (const [name, record] of this.records) {
      if (!stillHeld(record, nowMs, holdMs)) this.records.delete(name);
    }
  }
}
