import { expect, it } from "vitest";
import { configFrom, serverCommand } from "../../src/config.js";
import { listenerLimits } from "../../src/server/listener/index.js";

/** Parse flags as `parley` would, with commander's exit and output captured. */
function parse(args: string[]): ReturnType<typeof configFrom> {
  const cmd = serverCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return configFrom(cmd.parse(["node", "parley", ...args]));
}

it("defaults the listener limits", () => {
  expect(listenerLimits(parse([]))).toEqual({
    sniffTimeoutMs: 10_000,
    headersTimeoutMs: 60_000,
    requestTimeoutMs: 300_000,
    requestIdleMs: 60_000,
    idleConnectionMs: 120_000,
    maxStreamsPerConnection: 1000,
    maxConnections: 10_000,
    maxConnectionsPerAddress: 1000,
    maxResetsPerAddress: 1000,
  });
});

it("reads the listener limits from flags", () => {
  const config = parse([
    "--sniff-timeout-ms",
    "2500",
    "--headers-timeout-ms",
    "1000",
    "--request-timeout-ms",
    "2000",
    "--request-idle-ms",
    "30000",
    "--idle-connection-ms",
    "5000",
    "--max-streams-per-connection",
    "10",
    "--max-connections",
    "20",
    "--max-connections-per-address",
    "3",
    "--max-resets-per-address",
    "0",
  ]);
  expect(listenerLimits(config)).toEqual({
    sniffTimeoutMs: 2500,
    headersTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    requestIdleMs: 30_000,
    idleConnectionMs: 5000,
    maxStreamsPerConnection: 10,
    maxConnections: 20,
    maxConnectionsPerAddress: 3,
    maxResetsPerAddress: 0,
  });
});

it("refuses a limit out of range, naming the flag", () => {
  expect(() => parse(["--sniff-timeout-ms", "5"])).toThrow(
    "--sniff-timeout-ms must be a whole number from 100 to 600000",
  );
});

it("refuses limits that contradict each other, naming both flags", () => {
  expect(() => parse(["--request-idle-ms", "10000"])).toThrow(
    "error: --request-idle-ms (10000) must be longer than --heartbeat-ms (15000): streams that wait for messages stay alive by their heartbeats",
  );
  expect(() => parse(["--headers-timeout-ms", "5000", "--request-timeout-ms", "1000"])).toThrow(
    "error: --headers-timeout-ms (5000) must not be longer than --request-timeout-ms (1000)",
  );
});
