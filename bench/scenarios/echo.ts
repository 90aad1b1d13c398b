import { startAgent } from "../suite/agents.js";
import { AGENT_MAX_SECONDS, type SuiteContext, startFor } from "../suite/context.js";
import { errorCount, latencyOf, measureWindow, median, perSecond } from "../suite/measure.js";
import type { Row } from "../suite/row.js";

/**
 * Echo: concurrent Echo streams on one connection (for WebSocket, requests
 * pipelined on one socket), each keeping `depth` requests in flight: round
 * trips per second and the round-trip time.
 */
export async function echo(ctx: SuiteContext): Promise<Row[]> {
  const { sizes } = ctx;
  const rows: Row[] = [];
  for (const name of ctx.targets) {
    const target = await startFor(ctx, name);
    try {
      const windows = [];
      for (let r = 0; r < sizes.runs; r++) {
        const echoer = await startAgent(
          {
            kind: "echo",
            wire: target.wire,
            url: target.url,
            token: target.token,
            streams: sizes.echo.streams,
            depth: sizes.echo.depth,
            textBytes: sizes.textBytes,
          },
          AGENT_MAX_SECONDS,
        );
        try {
          const w = await measureWindow(target.pid, { echoer }, sizes.warmupMs, sizes.measureMs);
          windows.push(w);
          ctx.log(
            `echo ${name} run ${r + 1}: ${perSecond(w.results.echoer).toFixed(0)} round trips/s, server ${w.serverCpu.toFixed(0)}% load ${w.loadCpu.toFixed(0)}% machine ${w.machineCpu.toFixed(0)}%`,
          );
        } finally {
          await echoer.close();
        }
      }
      const rates = windows.map((w) => perSecond(w.results.echoer));
      const latency = latencyOf(windows.map((w) => w.results.echoer));
      rows.push({
        scenario: "echo",
        target: name,
        unit: "round trips/s",
        higherIsBetter: true,
        value: median(rates),
        runs: rates,
        p50Ms: latency.p50,
        p99Ms: latency.p99,
        serverCpu: median(windows.map((w) => w.serverCpu)),
        loadCpu: median(windows.map((w) => w.loadCpu)),
        machineCpu: median(windows.map((w) => w.machineCpu)),
        errors: windows.reduce((n, w) => n + errorCount(w.results.echoer), 0),
        note: `${sizes.echo.streams} streams x ${sizes.echo.depth} in flight`,
      });
    } finally {
      await target.stop();
    }
  }
  return rows;
}
