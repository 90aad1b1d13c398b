import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATENCY_BUCKETS } from "../../../src/metrics/registry.js";
import { freePort } from "../../helpers/free-port.js";
import {
  prometheusTestsCanRun,
  startPrometheus,
  type TestPrometheus,
} from "../../helpers/prometheus-server.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { chatClient } from "../../helpers/test-server.js";

// Issue 21 point 1: Debian's real prometheus scrapes the metrics listener,
// and its HTTP API answers what the test did.

const SEND = "chat.v1.ChatService/Send";
const SUBSCRIBE = "chat.v1.ChatService/Subscribe";
const SENDS = 7;

const canRun = prometheusTestsCanRun("the Prometheus scrape test");

describe.skipIf(!canRun)("prometheus scraping /metrics", () => {
  let server: SpawnedServer;
  let prometheus: TestPrometheus;
  let metricsPort: number;
  const stops: AbortController[] = [];

  beforeAll(async () => {
    metricsPort = await freePort();
    server = await spawnServer([
      ...["--port", "0", "--host", "127.0.0.1", "--store", "memory:"],
      ...["--metrics-port", String(metricsPort)],
    ]);
    prometheus = await startPrometheus("parley", `127.0.0.1:${metricsPort}`, 1);
  }, 60_000);
  afterAll(async () => {
    for (const stop of stops) stop.abort();
    await prometheus?.stop();
    server?.process.kill("SIGTERM");
    await server?.exited;
  });

  /** Query until `want` holds for the first value (or give up after 20 s and return what it says). */
  async function valueWhen(promql: string, want: (v: number | undefined) => boolean) {
    const until = Date.now() + 20_000;
    for (;;) {
      const value = (await prometheus.query(promql))[0]?.value;
      if (want(value) || Date.now() > until) return value;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it("reads the call counts, the open streams and a p99 the calls bound", async () => {
    const client = chatClient(server.url, "grpc-h2");
    // Two Subscribes stay open while Prometheus scrapes.
    for (const room of ["prom-a", "prom-b"]) {
      const stop = new AbortController();
      stops.push(stop);
      const it = client
        .subscribe({ room, author: "ann" }, { signal: stop.signal })
        [Symbol.asyncIterator]();
      await it.next();
    }
    let slowestMs = 0;
    for (let i = 0; i < SENDS; i++) {
      const started = performance.now();
      await client.send({ room: "prom-a", author: "ann", text: `m${i}` });
      slowestMs = Math.max(slowestMs, performance.now() - started);
    }

    expect(await valueWhen('up{job="parley"}', (v) => v === 1)).toBe(1);
    const sent = `parley_calls_finished_total{job="parley",method="${SEND}",protocol="grpc",code="ok"}`;
    expect(await valueWhen(sent, (v) => v === SENDS)).toBe(SENDS);
    const open = `parley_streams_open{job="parley",method="${SUBSCRIBE}"}`;
    expect(await valueWhen(open, (v) => v === 2)).toBe(2);
    const appended = 'parley_store_append_duration_seconds_count{job="parley",engine="memory"}';
    expect(await valueWhen(appended, (v) => v === SENDS)).toBe(SENDS);

    // Every Send took the server no longer than the client saw, so the p99
    // Prometheus computes from the histogram lies at or below the bucket
    // bound that holds the slowest call the client measured.
    const p99 = await prometheus.query(
      `histogram_quantile(0.99, sum by (le) (parley_call_duration_seconds_bucket{job="parley",method="${SEND}"}))`,
    );
    const bound = LATENCY_BUCKETS.find((b) => b >= slowestMs / 1000) ?? Number.POSITIVE_INFINITY;
    expect(p99.length).toBe(1);
    expect(p99[0]?.value).toBeGreaterThan(0);
    expect(p99[0]?.value).toBeLessThanOrEqual(bound);
  }, 60_000);
});
