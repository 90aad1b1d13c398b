/**
 * Verified tokens by their text, so that a token is verified once, not on
 * every call: a client sends the same token on every call of a connection
 * and every message of its streams. Bounded; an entry is dropped when its
 * token expires or the cache is full (oldest first).
 */
export class TokenCache<V> {
  private readonly entries = new Map<string, { value: V; untilMs: number }>();

  constructor(private readonly maxEntries: number) {}

  get(token: string, nowMs: number): V | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.untilMs <= nowMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, value: V, untilMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, untilMs });
  }
}
