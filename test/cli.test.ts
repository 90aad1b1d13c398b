import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Run the server entry with these flags and wait for it to exit (they all exit at once). */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe("the server's command line", () => {
  it("--help lists every flag with its environment variable and default", () => {
    const { code, out } = run(["--help"]);
    expect(code).toBe(0);
    for (const line of [
      /--port <n>\s+port for every protocol \(default: 8080, env: PORT\)/,
      /--store <spec>\s+message store: sqlite:PATH or memory: \(default:\s+"sqlite:\.\/data\/parley\.db", env: PARLEY_STORE\)/,
      /--retention <n>.*\(default: 10000, env:\s+PARLEY_RETENTION\)/s,
      /--heartbeat-ms <ms>.*\(default: 15000, env:\s+PARLEY_HEARTBEAT_MS\)/s,
      /--queue-events <n>/,
      /--queue-bytes <n>/,
      /--tls-cert <file>/,
      /--tls-key <file>/,
      /--log-level <level>/,
      /--shutdown-ms <ms>/,
    ]) {
      expect(out).toMatch(line);
    }
  });

  it("refuses a bad flag value, naming the flag and the accepted range", () => {
    const { code, out } = run(["--port", "http"]);
    expect(code).toBe(1);
    expect(out).toContain(
      "error: option '--port <n>' argument 'http' is invalid. --port must be a whole number from 0 to 65535",
    );
  });

  it("refuses a bad value from the environment the same way", () => {
    const { code, out } = run([], { PARLEY_RETENTION: "-5" });
    expect(code).toBe(1);
    expect(out).toContain("--retention must be a whole number from 1 to 100000000");
  });

  it("refuses an unknown store, naming the accepted forms", () => {
    const { code, out } = run(["--port", "0", "--store", "postgres://x"]);
    expect(code).toBe(1);
    expect(out).toContain('--store \\"postgres://x\\": expected sqlite:PATH or memory:');
    expect(out).toContain('"msg":"parley could not start"');
  });

  it("refuses half a TLS pair", () => {
    const { code, out } = run(["--port", "0", "--tls-cert", "cert.pem"]);
    expect(code).toBe(1);
    expect(out).toContain("--tls-cert and --tls-key go together: give both or neither");
  });
});
