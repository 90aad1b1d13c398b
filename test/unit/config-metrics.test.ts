import { expect, it } from "vitest";
import { configFrom, serverCommand } from "../../src/config.js";

/** Parse flags as `parley` would, with commander's exit and output captured. */
function parse(args: string[]): ReturnType<typeof configFrom> {
  const cmd = serverCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return configFrom(cmd.parse(["node", "parley", ...args]));
}

it("leaves metrics off, and binds them to loopback when on", () => {
  const off = parse([]);
  expect([off.metricsPort, off.metricsHost]).toEqual([0, "127.0.0.1"]);
  const on = parse(["--metrics-port", "9464", "--metrics-host", "::1"]);
  expect([on.metricsPort, on.metricsHost]).toEqual([9464, "::1"]);
});

it("refuses a metrics port that is the public port, or out of range", () => {
  expect(() => parse(["--port", "9000", "--metrics-port", "9000"])).toThrow(
    "error: --metrics-port (9000) must differ from --port: metrics are served on a listener of their own, apart from the public port",
  );
  expect(() => parse(["--metrics-port", "70000"])).toThrow(
    "--metrics-port must be a whole number from 0 to 65535",
  );
});
