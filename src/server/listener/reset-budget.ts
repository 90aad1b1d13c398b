import * as http2 from "node:http2";
import { refusals } from "../../metrics/refusal-metrics.js";
import { clientAddress, type Refusal } from "./connection-caps.js";

/** The window a reset budget refills over: the whole budget comes back in this long. */
export const RESET_WINDOW_MS = 10_000;

/**
 * Streams one client address may reset, charged to the address rather than
 * the connection: nghttp2 already ends one connection that resets too much,
 * but a client that reconnects after each GOAWAY starts a fresh budget
 * every time (the "reconnecting rapid reset" of 2023). Each address has a
 * bucket of `perWindow` resets that refills over RESET_WINDOW_MS; an
 * address that empties it is cooled down: its connection that overspent
 * gets GOAWAY(ENHANCE_YOUR_CALM), and its new connections are refused at
 * the door with the same code and the reason, until it has not tried to
 * connect for one window. A reset is a stream that ended with an error
 * code (RST_STREAM) before the server ended it.
 */
export function resetBudget(perWindow: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const cooling = new Map<string, number>();
  const message = (address: string) =>
    `too many streams reset from ${address} (more than ${perWindow} in ${RESET_WINDOW_MS / 1000} s, --max-resets-per-address); connect again after ${RESET_WINDOW_MS / 1000} s without trying`;

  /** Forget addresses whose bucket has refilled, so the maps hold only recent resetters. */
  function sweep(at: number): void {
    for (const [address, bucket] of buckets) {
      if (bucket.tokens + ((at - bucket.atMs) * perWindow) / RESET_WINDOW_MS >= perWindow) {
        buckets.delete(address);
      }
    }
    for (const [address, until] of cooling) if (until <= at) cooling.delete(address);
  }

  /** Charge one reset to the address: false when it has now spent its budget. */
  function charge(address: string): boolean {
    const at = now();
    if (buckets.size > 10_000) sweep(at);
    const bucket = buckets.get(address) ?? { tokens: perWindow, atMs: at };
    bucket.tokens = Math.min(
      perWindow,
      bucket.tokens + ((at - bucket.atMs) * perWindow) / RESET_WINDOW_MS,
    );
    bucket.atMs = at;
    bucket.tokens -= 1;
    buckets.set(address, bucket);
    if (bucket.tokens >= 0) return true;
    cooling.set(address, at + RESET_WINDOW_MS);
    // A fresh budget once the cool-down ends.
    buckets.delete(address);
    return false;
  }

  // One listener for every stream (`this` is the stream): a closure per
  // stream would cost every stream, and most are never reset.
  function onAborted(this: http2.ServerHttp2Stream): void {
    // A connection that closes with streams open ends them with NO_ERROR: a
    // page closed with its streams, not a reset. (nghttp2's own limit per
    // connection still counts a client's RST_STREAM(NO_ERROR).)
    if (this.rstCode === http2.constants.NGHTTP2_NO_ERROR) return;
    const session = this.session;
    const socket = session?.socket;
    if (session === undefined || socket === undefined || session.closed) return;
    const address = clientAddress(socket);
    if (charge(address)) return;
    refusals.maxResetsPerAddress.value++;
    session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from(message(address)));
    session.close();
    overspent.add(session);
  }

  // Sessions told GOAWAY for their resets: streams nghttp2 already took from
  // the same read (a burst arrives many streams to a packet) are refused
  // before any handler sees them.
  const overspent = new WeakSet<http2.Http2Session>();

  return {
    /**
     * Charge this stream's reset, if the client resets it, to its client's
     * address. False (the stream refused, REFUSED_STREAM) when its
     * connection has already overspent: the caller must not serve it.
     */
    admit(stream: http2.ServerHttp2Stream): boolean {
      if (overspent.has(stream.session as http2.Http2Session)) {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return false;
      }
      stream.once("aborted", onAborted);
      return true;
    },
    /** The refusal for a new connection from an address in its cool-down, if it is in one. */
    refusal(address: string): Refusal | undefined {
      const until = cooling.get(address);
      if (until === undefined) return undefined;
      if (until <= now()) {
        cooling.delete(address);
        return undefined;
      }
      // Reconnecting is charged too: the cool-down lasts until the address
      // has kept away for a whole window.
      cooling.set(address, now() + RESET_WINDOW_MS);
      refusals.maxResetsPerAddress.value++;
      return { kind: "address", message: message(address) };
    },
  };
}

/** What the listener keeps of a reset budget. */
export type ResetBudget = ReturnType<typeof resetBudget>;
