import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Run the server entry with these flags and wait for it to exit (they all exit at once). */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout + r.stderr, stderr: r.stderr };
}

/** A plain TCP listener holding a port, as another program would (host undefined: all interfaces). */
async function holdPort(host?: string): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host }, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, server };
}

describe("the server's command line", () => {
  it("--help lists every flag with its environment variable and default", () => {
    const { code, out } = run(["--help"]);
    expect(code).toBe(0);
    // One space for every run of whitespace: commander wraps to the widest flag's column.
    const help = out.replace(/\s+/g, " ");
    for (const line of [
      /--port <n>\s+port for every protocol \(default: 8080, env: PORT\)/,
      /--store <spec>\s+message store: sqlite:PATH, memory:, redis:\/\/HOST:PORT\[\/DB\] or\s+redis-cluster:\/\/HOST:PORT,… \(default:\s+"sqlite:\.\/data\/parley\.db", env:\s+PARLEY_STORE\)/,
      /--retention <n>.*\(default: 10000, env:\s+PARLEY_RETENTION\)/s,
      /--heartbeat-ms <ms>.*\(default: 15000, env:\s+PARLEY_HEARTBEAT_MS\)/s,
      /--queue-events <n>/,
      /--queue-bytes <n>/,
      /--tls-cert <file>/,
      /--tls-key <file>/,
      /--log-level <level>/,
      /--shutdown-ms <ms>/,
    ]) {
      expect(help).toMatch(line);
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
    expect(out).toContain(
      '--store \\"postgres://x\\": expected sqlite:PATH, memory:, redis://host:port[/db] or redis-cluster://host:port,...',
    );
    expect(out).toContain('"msg":"parley could not start"');
  });

  it("refuses guest logins on a Redis store without a shared secret file, saying what to give", () => {
    const { code, stderr } = run(["--port", "0", "--store", "redis://127.0.0.1:1"]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      "error: --auth guest on a Redis store needs --auth-secret-file: every node signs and verifies guest tokens with it, so give each node the same file (at least 32 bytes), or use --auth jwt\n",
    );
  });

  it("refuses half a TLS pair", () => {
    const { code, out } = run(["--port", "0", "--tls-cert", "cert.pem"]);
    expect(code).toBe(1);
    expect(out).toContain("--tls-cert and --tls-key go together: give both or neither");
  });

  // Issue 14 point 5: a busy port used to print only pino's JSON line (listen EADDRINUSE …).
  it("a busy port exits 1 with one line on stderr naming --port and PORT", async () => {
    const flagHeld = await holdPort("127.0.0.1");
    const envHeld = await holdPort();
    try {
      const byFlag = run([
        "--port",
        String(flagHeld.port),
        "--host",
        "127.0.0.1",
        "--store",
        "memory:",
      ]);
      expect(byFlag.code).toBe(1);
      expect(byFlag.stderr).toBe(
        `parley could not start: 127.0.0.1:${flagHeld.port} is already in use (another Parley, or another program). Pick another port with --port 9000 (or PORT=9000), or --port 0 for any free one.\n`,
      );
      // The JSON log line keeps the details, on stdout.
      expect(byFlag.out).toContain('"code":"EADDRINUSE"');

      const byEnv = run(["--store", "memory:"], { PORT: String(envHeld.port) });
      expect(byEnv.code).toBe(1);
      expect(byEnv.stderr).toBe(
        `parley could not start: port ${envHeld.port} is already in use (another Parley, or another program). Pick another port with --port 9000 (or PORT=9000), or --port 0 for any free one.\n`,
      );
    } finally {
      flagHeld.server.close();
      envHeld.server.close();
    }
  });

  it("a failure to start says why on stderr, in one line", () => {
    const { code, stderr } = run(["--port", "0", "--store", "postgres://x"]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'parley could not start: --store "postgres://x": expected sqlite:PATH, memory:, redis://host:port[/db] or redis-cluster://host:port,...\n',
    );
  });
});
