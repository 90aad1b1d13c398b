import type Database from "better-sqlite3";
import {
  decideClaim,
  type GuestNameClaim,
  type GuestNameOutcome,
  type GuestNameRecord,
  type GuestNames,
} from "./guest-names.js";
import { SQLITE_GUEST_NAMES_SCHEMA } from "./sqlite-schema.js";

interface Row {
  key_hash: string;
  last_used: number;
  token_until: number;
}

/** Sweep names nobody holds at most this often. */
const SWEEP_MS = 60_000;

/**
 * Guest names in the SQLite file, beside the messages: they outlive
 * restarts. One process owns the file and better-sqlite3 runs each claim's
 * read and write in one synchronous transaction, so claims never interleave.
 */
export class SqliteGuestNames implements GuestNames {
  private readonly get;
  private readonly put;
  private readonly sweep;
  private sweptAtMs = 0;

  constructor(private readonly db: Database.Database) {
    db.exec(SQLITE_GUEST_NAMES_SCHEMA);
    this.get = db.prepare<[string], Row>(
      "SELECT key_hash, last_used, token_until FROM guest_names WHERE name = ?",
    );
    this.put = db.prepare<[string, string, number, number]>(
      "INSERT OR REPLACE INTO guest_names (name, key_hash, last_used, token_until) VALUES (?, ?, ?, ?)",
    );
    this.sweep = db.prepare<[number, number, number]>(
      "DELETE FROM guest_names WHERE last_used + ? <= ? AND token_until <= ?",
    );
  }

  async claim(claim: GuestNameClaim): Promise<GuestNameOutcome> {
    return this.db.transaction(() => {
      const row = this.get.get(claim.name);
      const record: GuestNameRecord | undefined =
        row === undefined
          ? undefined
          : { keyHash: row.key_hash, lastUsedMs: row.last_used, tokenUntilMs: row.token_until };
      const decided = decideClaim(record, claim);
      const next = decided.record;
      if (next !== undefined) {
        this.put.run(claim.name, next.keyHash, next.lastUsedMs, next.tokenUntilMs);
      }
      if (claim.nowMs - this.sweptAtMs >= SWEEP_MS) {
        this.sweptAtMs = claim.nowMs;
        this.sweep.run(claim.holdMs, claim.nowMs, claim.nowMs);
      }
      return decided.outcome;
    })();
  }
}
