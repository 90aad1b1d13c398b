import { Code, ConnectError } from "@connectrpc/connect";
import { refusals } from "../metrics/refusal-metrics.js";
import { encodeRetryInfo } from "../wire/retry-info.js";

/** A rate: `perSecond` on average, up to `burst` at once. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/** Per-user limits; each has a flag (src/identity/auth-options.ts). */
export interface UserLimitOptions {
  sends: Rate;
  joins: Rate;
  typing: Rate;
  /** Streams (Subscribe, Chat, Listener, Echo, SSE) one user may have open at once. */
  maxStreams: number;
}

type Kind = "sends" | "joins" | "typing";

const WORDS: Record<Kind, string> = { sends: "messages", joins: "joins", typing: "typing updates" };

const REFUSALS = {
  sends: refusals.userSends,
  joins: refusals.userJoins,
  typing: refusals.userTyping,
};

/**
 * Token buckets per user and kind. A refusal is RESOURCE_EXHAUSTED naming the
 * limit, with a google.rpc.RetryInfo detail saying when the next one would
 * pass; nothing of the refused call happens.
 */
export class UserLimits {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly streams = new Map<string, number>();

  constructor(readonly options: UserLimitOptions) {}

  /** Take one of `kind` for `user`, or throw the refusal. */
  take(user: string, kind: Kind, nowMs = Date.now()): void {
    const rate = this.options[kind];
    const key = `${kind}\u0000${user}`;
    const bucket = this.buckets.get(key) ?? { tokens: rate.burst, atMs: nowMs };
    bucket.tokens = Math.min(
      rate.burst,
      bucket.tokens + ((nowMs - bucket.atMs) / 1000) * rate.perSecond,
    );
    bucket.atMs = nowMs;
    if (bucket.tokens < 1) {
      REFUSALS[kind].value++;
      this.buckets.set(key, bucket);
      const waitMs = Math.ceil(((1 - bucket.tokens) / rate.perSecond) * 1000);
      const error = new ConnectError(
        `"${user}" sends ${WORDS[kind]} faster than the limit of ${rate.perSecond}/s (bursts of ${rate.burst}); retry in ${waitMs} ms`,
        Code.ResourceExhausted,
      );
      // Already encoded: connect sends a detail given as type and bytes as it is.
      error.details.push({ type: "google.rpc.RetryInfo", value: encodeRetryInfo(waitMs) });
      throw error;
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.forgetFull(nowMs);
  }

  /** Count a stream of `user` open; throws when it would pass the cap. Call the returned function when it ends. */
  openStream(user: string): () => void {
    const open = this.streams.get(user) ?? 0;
    if (open >= this.options.maxStreams) {
      refusals.userMaxStreams.value++;
      throw new ConnectError(
        `"${user}" has ${open} streams open, the limit per user; close one first`,
        Code.ResourceExhausted,
      );
    }
    this.streams.set(user, open + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.streams.get(user) ?? 1) - 1;
      if (left <= 0) this.streams.delete(user);
      else this.streams.set(user, left);
    };
  }

  /** Buckets that have refilled are the same as none: drop them to bound memory. */
  private forgetFull(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      const kind = key.slice(0, key.indexOf("\u0000")) as Kind;
      const rate = this.options[kind];
      if (bucket.tokens + ((nowMs - bucket.atMs) / 1000) * rate.perSecond >= rate.burst) {
        this.buckets.delete(key);
      }
    }
  }
}
