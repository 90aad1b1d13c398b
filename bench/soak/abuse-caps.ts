import { fork } from "node:child_process";
import * as net from "node:net";
import { type Abuse, pause, stopper, Tally } from "./tally.js";

/** The HTTP/2 client preface and an empty SETTINGS frame: a connection that then idles. */
const H2_START = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const GOAWAY = 7;
/** GOAWAY codes the listener refuses a connection with (RFC 9113 section 7). */
const CODES: Record<number, string> = {
  7: "REFUSED_STREAM: the total cap",
  11: "ENHANCE_YOUR_CALM: the per-address cap",
};

/**
 * Open one idle h2c connection from `localAddress`; resolves "admitted" once
 * the server's SETTINGS arrive with no GOAWAY, or how it was refused. The
 * socket is kept in `held` while it stays open.
 */
function openOne(port: number, localAddress: string, held: Set<net.Socket>): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1", localAddress });
    let seen = Buffer.alloc(0);
    let settled = false;
    const settle = (outcome: string) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    socket.on("error", (e: NodeJS.ErrnoException) => settle(`error ${e.code ?? e.message}`));
    socket.on("close", () => {
      held.delete(socket);
      settle("closed without an answer");
    });
    socket.on("connect", () => {
      held.add(socket);
      socket.write(H2_START);
    });
    socket.on("data", (d: Buffer) => {
      seen = Buffer.concat([seen, d]);
      // The refusal is SETTINGS then GOAWAY in one write; an admitted
      // connection gets SETTINGS (and its ACK) and nothing more.
      for (let at = 0; at + 9 <= seen.length; at += 9 + seen.readUIntBE(at, 3)) {
        if (seen[at + 3] === GOAWAY && at + 17 <= seen.length) {
          const code = seen.readUInt32BE(at + 13);
          return settle(`refused: GOAWAY ${CODES[code] ?? code}`);
        }
      }
      setTimeout(() => settle("admitted"), 200);
    });
  });
}

/** One connection flood: what floodsInWorker runs. */
export interface FloodSpec {
  name: string;
  /** Loopback aliases to connect from (127.0.0.2 and up), so the normal clients on 127.0.0.1 keep their own per-address budget. */
  addresses: string[];
  /** Connections opened from each address. */
  perAddress: number;
  /** When into the run they are opened. */
  waveAtMs: number;
  /** How long they are held; to the end of the run when undefined. */
  holdMs?: number;
}

/**
 * The connection caps under load: idle HTTP/2 connections opened as `spec`
 * says. Counts how many the server admitted and how it refused the rest.
 */
export function connectionFlood(port: number, spec: FloodSpec): Abuse {
  const { name, addresses, perAddress, waveAtMs, holdMs } = spec;
  const tally = new Tally(name);
  const stop = stopper();
  const held = new Set<net.Socket>();
  const release = () => {
    for (const s of held) s.destroy();
    held.clear();
  };
  const run = (async () => {
    await pause(waveAtMs, stop.signal);
    if (stop.signal.aborted) return;
    const started = Date.now();
    const outcomes = await Promise.all(
      addresses.flatMap((address) =>
        Array.from({ length: perAddress }, () => openOne(port, address, held)),
      ),
    );
    for (const o of outcomes) tally.add(o);
    tally.add(
      `seconds to open all ${outcomes.length}`,
      Math.round((Date.now() - started) / 100) / 10,
    );
    // Refused ones close at once; the admitted stay open while held.
    await pause(1000, stop.signal);
    tally.add("still open 1 s later", held.size);
    if (holdMs !== undefined) {
      await pause(holdMs, stop.signal);
      release();
    }
  })();
  return {
    tally,
    async stop() {
      stop.abort();
      await run;
      release();
    },
  };
}

/**
 * Run the floods in a process of their own: opening thousands of sockets
 * then takes its own event loop, not the one the normal clients read on
 * (whose stalls would otherwise be the soak's own doing, not the server's).
 * Each Abuse's tally is filled in when it is stopped.
 */
export function floodsInProcess(port: number, specs: FloodSpec[]): Abuse[] {
  const child = fork(new URL("./flood-process.ts", import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.send({ port, specs });
  const tallies = specs.map((s) => new Tally(s.name));
  let stopped: Promise<void> | undefined;
  const stopAll = () => {
    stopped ??= new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("message", (counts: [string, number][][]) => {
        for (const [i, entries] of counts.entries())
          for (const [outcome, n] of entries) tallies[i]?.add(outcome, n);
        child.once("exit", () => resolve());
      });
      child.send("stop");
    });
    return stopped;
  };
  return tallies.map((tally) => ({ tally, stop: stopAll }));
}
