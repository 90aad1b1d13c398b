import type { Metric, Registry } from "prom-client";

/** Label names to values, as the exposition writes them. */
export type Labels = Readonly<Record<string, string>>;

/** One counter or gauge series: increment `value` directly on the hot path. */
export interface Cell {
  readonly labels: Labels;
  value: number;
}

/** One histogram series: observe() costs a short scan of the bucket bounds and no allocation. */
export interface HistogramCell {
  readonly labels: Labels;
  observe(value: number): void;
}

/** One value line for the registry's text format. */
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/**
 * A metric whose series are plain objects this process writes to, read by
 * prom-client's Registry only at scrape time. prom-client's own label
 * children hash their label values on every inc() (a string built per
 * call); a cell is resolved once, when its labels first occur, and a
 * delivery or a call then costs one addition. The Registry reads any
 * registered object through get() (name, help, type, values), which is what
 * this is; its TypeScript type names only prom-client's classes, hence the
 * cast in register().
 */
abstract class CellMetric {
  readonly aggregator = "sum";
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}

  protected abstract samples(): Sample[];

  /** What the Registry formats. */
  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.samples(),
    };
  }

  /** Add this metric to `registry`. */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

/** A counter or gauge made of cells, one per label set. */
export class CellFamily extends CellMetric {
  private readonly cells = new Map<string, Cell>();
  /** Run just before a scrape reads the cells (a gauge computed on demand). */
  collect: (() => void) | undefined;

  constructor(name: string, help: string, type: "counter" | "gauge") {
    super(name, help, type);
  }

  /** The cell of these labels, made at its first use; keep it and write to it. */
  cell(labels: Labels = {}): Cell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { labels, value: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected samples(): Sample[] {
    this.collect?.();
    return [...this.cells.values()].map((c) => ({ labels: c.labels, value: c.value }));
  }
}

/** A histogram made of cells with the same bucket bounds (seconds, ascending). */
export class HistogramFamily extends CellMetric {
  private readonly cells = new Map<string, Histo>();

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
  ) {
    super(name, help, "histogram");
  }

  /** The cell of these labels, made at its first use. */
  cell(labels: Labels = {}): HistogramCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = new Histo(labels, this.bounds);
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected samples(): Sample[] {
    const out: Sample[] = [];
    for (const c of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += c.counts[i] as number;
        out.push({
          metricName: `${this.name}_bucket`,
          labels: { ...c.labels, le: String(this.bounds[i]) },
          value: cumulative,
        });
      }
      out.push({
        metricName: `${this.name}_bucket`,
        labels: { ...c.labels, le: "+Inf" },
        value: c.count,
      });
      out.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      out.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return out;
  }
}

class Histo implements HistogramCell {
  /** Observations per bucket (not cumulative); one past the last bound is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}
