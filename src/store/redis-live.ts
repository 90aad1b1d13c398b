import type { Cluster, Redis } from "ioredis";
import { countReconnects } from "../metrics/redis-metrics.js";
import type { LiveListener, LiveMessages } from "./message-log.js";
import { decodePresence, decodePublished } from "./redis-codec.js";
import { roomKeys } from "./redis-keys.js";
import { connectStore, type RedisTarget } from "./redis-target.js";

interface Watched {
  room: string;
  listeners: Set<LiveListener>;
  /** A SUBSCRIBE for the channel is on its way. */
  pending: boolean;
}

/**
 * Live messages over Redis pub/sub (sharded pub/sub on a cluster): the append
 * script publishes each message on its room's channel, and this process
 * subscribes to a room's channel only while something here watches it.
 *
 * Pub/sub is at-most-once: when the subscriber connection drops, what is
 * published meanwhile is lost. The connection is re-subscribed by hand after
 * every reconnect (not by ioredis's autoResubscribe) so that each listener
 * learns through resumed() exactly when the channel is live again, and can
 * read what it missed from the stream.
 */
export class RedisLive implements LiveMessages {
  private readonly watched = new Map<string, Watched>();
  /** Whole-store channels (see listen), by channel. */
  private readonly listened = new Map<string, (payload: string) => void>();
  /** Told when a listened channel is subscribed again after the connection was down (what was published meanwhile is lost). */
  private readonly resumedListens = new Map<string, () => void>();
  private readonly sub: Redis | Cluster;
  private readonly sharded: boolean;

  constructor(target: RedisTarget, connectionName: string) {
    this.sharded = target.kind === "cluster";
    this.sub = connectStore(target, connectionName, { autoResubscribe: false });
    this.sub.on(this.sharded ? "smessage" : "message", (channel: string, payload: string) =>
      this.deliver(channel, payload),
    );
    // Plain pub/sub (listen), on either kind of target.
    this.sub.on("message", (channel: string, payload: string) => {
      const handler = this.listened.get(channel);
      if (handler === undefined) return;
      try {
        handler(payload);
      } catch {}
    });
    // After a reconnect: a plain client is "ready" on a fresh connection with
    // no subscriptions; a cluster client has re-created its shard subscriber
    // connections and re-sent their SSUBSCRIBEs without waiting for them.
    // Subscribing again (a no-op on the server when already subscribed)
    // gives a reply to wait for before resumed().
    this.sub.on(this.sharded ? "subscribersReady" : "ready", () => {
      for (const [channel, w] of this.watched) if (!w.pending) void this.subscribe(channel, w);
    });
    // A cluster client's plain subscriber connection re-subscribes by itself
    // when it moves to another node; a plain client's must be told.
    if (!this.sharded) {
      let connectedBefore = false;
      this.sub.on("ready", () => {
        // The first "ready" is the first connection: nothing was missed yet.
        const again = connectedBefore;
        connectedBefore = true;
        for (const channel of this.listened.keys()) {
          this.sub.subscribe(channel).then(
            () => {
              if (again) this.resumedListens.get(channel)?.();
            },
            () => {},
          );
        }
      });
    } else {
      // The cluster client re-subscribes by itself; its shard subscribers
      // being ready again (not the first time) is the sign that the
      // connection was down.
      let readyBefore = false;
      this.sub.on("subscribersReady", () => {
        const again = readyBefore;
        readyBefore = true;
        if (again) for (const resumed of this.resumedListens.values()) resumed();
      });
    }
    // The store's command connection logs an outage once (RedisLog); this one
    // reconnects on its own, and without a listener ioredis would print
    // every failed attempt to stderr as an unhandled error event.
    this.sub.on("error", () => undefined);
    countReconnects(this.sub, "live", this.sharded ? "subscribersReady" : "ready");
  }

  watch(room: string, listener: LiveListener): () => void {
    const { channel } = roomKeys(room);
    let w = this.watched.get(channel);
    if (!w) {
      w = { room, listeners: new Set(), pending: false };
      this.watched.set(channel, w);
      void this.subscribe(channel, w);
    } else if (!w.pending) {
      // Already live: from now on this listener hears every message.
      queueMicrotask(() => {
        if (w?.listeners.has(listener)) listener.resumed();
      });
    }
    w.listeners.add(listener);
    const watched = w;
    return () => {
      if (!watched.listeners.delete(listener) || watched.listeners.size > 0) return;
      if (this.watched.get(channel) !== watched) return;
      this.watched.delete(channel);
      const done = this.sharded ? this.sub.sunsubscribe(channel) : this.sub.unsubscribe(channel);
      // A failure means the connection is gone, and with it the subscription.
      done.catch(() => undefined);
    };
  }

  /**
   * Hand every message published with PUBLISH on `channel` to `handler`
   * until close (on a cluster, a PUBLISH on any node reaches this
   * connection). Resolves once subscribed. At most once, like every pub/sub:
   * what is published while the connection is down is lost.
   */
  async listen(
    channel: string,
    handler: (payload: string) => void,
    resumed?: () => void,
  ): Promise<void> {
    this.listened.set(channel, handler);
    await this.sub.subscribe(channel);
    if (resumed !== undefined) this.resumedListens.set(channel, resumed);
  }

  /** Stop listening and close the subscriber connection. */
  close(): void {
    this.watched.clear();
    this.listened.clear();
    this.resumedListens.clear();
    this.sub.disconnect();
  }

  private async subscribe(channel: string, w: Watched): Promise<void> {
    w.pending = true;
    try {
      if (this.sharded) await this.sub.ssubscribe(channel);
      else await this.sub.subscribe(channel);
    } catch {
      // No connection: the "ready" after the reconnect subscribes again.
      return;
    } finally {
      w.pending = false;
    }
    if (this.watched.get(channel) !== w) return;
    for (const listener of w.listeners) listener.resumed();
  }

  private deliver(channel: string, payload: string): void {
    const w = this.watched.get(channel);
    if (!w) return;
    // Presence changes are JSON objects, messages JSON arrays.
    const change = payload.startsWith("{") ? decodePresence(payload) : undefined;
    const message = change ? undefined : decodePublished(w.room, payload);
    for (const listener of w.listeners) {
      // A listener that throws must not break the subscriber connection for the others.
      try {
        if (change && "kind" in change) listener.presence?.(change);
        else if (change) listener.typing?.(change.author, change.stopped, change.node);
        else if (message) listener.message(message);
      } catch {}
    }
  }
}
