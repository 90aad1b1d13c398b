import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parleyEntry } from "../suite/parley-build.js";
import { rssOf } from "../suite/proc-stats.js";
import { type ServerProcess, spawnListening } from "../suite/spawn-process.js";

/**
 * The flags the soak's server runs with: the defaults users get, except a
 * shorter HTTP/1.1 headers timeout (60 s by default) so that slowloris
 * sockets are seen being closed within a one-minute run.
 */
// --auth off: the soak measures the transport's defences (its abusers and
// normal clients carry no tokens); identity refusals have tests of their own.
export const SOAK_SERVER_FLAGS = [
  ...["--auth", "off"],
  ...["--headers-timeout-ms", "15000", "--retention", "1000000"],
];

/** Parley under soak, with its RSS sampled every 200 ms. */
export interface SoakServer extends ServerProcess {
  readonly rssStart: number;
  /** The highest RSS sampled so far. */
  peakRss(): number;
  /** RSS now. */
  rssNow(): number;
}

/** Build Parley as `npm start` runs it and start it on a loopback port with SQLite in a temporary folder. */
export async function startSoakServer(): Promise<SoakServer> {
  const dir = mkdtempSync(join(tmpdir(), "parley-soak-"));
  // A page of its own, so the static-file handler answers the Range abuse
  // whether or not the web app was built.
  const web = join(dir, "web");
  mkdirSync(web);
  writeFileSync(
    join(web, "index.html"),
    "<!doctype html><title>soak</title><p>Parley soak page</p>\n",
  );
  const server = await spawnListening(
    parleyEntry(),
    [
      ...["--port", "0", "--host", "127.0.0.1", "--store", `sqlite:${join(dir, "soak.db")}`],
      ...SOAK_SERVER_FLAGS,
      ...["--web-dir", web],
    ],
    /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"parley listening"/,
  );
  const rssStart = rssOf(server.pid);
  let peak = rssStart;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(server.pid));
    } catch {
      // The process is gone: stop() reports it.
    }
  }, 200);
  return {
    ...server,
    rssStart,
    peakRss: () => peak,
    rssNow: () => rssOf(server.pid),
    async stop() {
      clearInterval(sampler);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
