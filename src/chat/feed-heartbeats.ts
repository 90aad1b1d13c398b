/** A feed as the heartbeat ticker sees it. */
export interface Beating {
  /** Send a heartbeat if the feed has sent nothing since `dueMs` (ms since the epoch). */
  beatIfIdleSince(dueMs: number): void;
}

/**
 * One timer for every feed of a server (as the room hub has one for every
 * subscription): a timer per feed would cost a reset on every delivery. It
 * runs only while some feed is open.
 */
export class FeedHeartbeats {
  private readonly feeds = new Set<Beating>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** A feed idle this long (ms) gets a heartbeat. */
    readonly intervalMs: number,
  ) {}

  /** Start beating a feed. */
  add(feed: Beating): void {
    this.feeds.add(feed);
    if (this.timer !== undefined) return;
    const tickMs = Math.max(10, Math.min(1000, Math.floor(this.intervalMs / 2)));
    this.timer = setInterval(() => {
      const due = Date.now() - this.intervalMs;
      for (const f of this.feeds) f.beatIfIdleSince(due);
    }, tickMs);
    this.timer.unref();
  }

  /** Stop beating a feed (it ended). */
  remove(feed: Beating): void {
    this.feeds.delete(feed);
    if (this.feeds.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
