/** 50 µs buckets up to 50 ms, then 1 ms buckets up to 60 s. */
const FINE_US = 50;
const FINE_BUCKETS = 1000;
const COARSE_US = 1000;
const BUCKETS = FINE_BUCKETS + 60_000;

function bucketOf(us: number): number {
  if (us < FINE_US * FINE_BUCKETS) return Math.max(0, Math.floor(us / FINE_US));
  return Math.min(
    BUCKETS - 1,
    FINE_BUCKETS + Math.floor((us - FINE_US * FINE_BUCKETS) / COARSE_US),
  );
}

function upperUs(bucket: number): number {
  if (bucket < FINE_BUCKETS) return (bucket + 1) * FINE_US;
  return FINE_US * FINE_BUCKETS + (bucket - FINE_BUCKETS + 1) * COARSE_US;
}

/** Sparse [bucket, count] pairs: what crosses process boundaries. */
export type HistogramPairs = [number, number][];

/**
 * A latency histogram cheap enough to record every delivery: fixed buckets,
 * so histograms from several processes merge by adding counts.
 */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  /** Samples recorded. */
  total = 0;

  /** Record one latency in microseconds. */
  record(us: number): void {
    const b = bucketOf(us);
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.total++;
  }

  /** Forget every sample (at the start of a measured window). */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** The non-empty buckets. */
  toPairs(): HistogramPairs {
    const pairs: HistogramPairs = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) pairs.push([bucket, count]);
    });
    return pairs;
  }

  /** Add another histogram's pairs. */
  add(pairs: HistogramPairs): void {
    for (const [bucket, count] of pairs) {
      this.counts[bucket] = (this.counts[bucket] ?? 0) + count;
      this.total += count;
    }
  }

  /** The q-quantile (0..1) in milliseconds, as its bucket's upper bound; NaN when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b] ?? 0;
      if (seen >= rank) return upperUs(b) / 1000;
    }
    return Number.NaN;
  }
}
