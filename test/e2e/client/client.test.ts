import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  createParleyClient,
  ResumeFailedError,
  type SubscriptionStatus,
} from "../../../src/client/index.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { freePort } from "../../helpers/free-port.js";
import { startFreezableProxy } from "../../helpers/freezable-proxy.js";
import { type SpawnedServer, spawnOnPort } from "../../helpers/spawn-server.js";
import { range } from "../../helpers/streams.js";
import { startTestServer } from "../../helpers/test-server.js";

const onCleanup = cleanupAfterEach();

async function spawnOn(port: number, store: string): Promise<SpawnedServer> {
  const server = await spawnOnPort(port, store);
  onCleanup(() => server.process.kill("SIGKILL"));
  return server;
}

async function inProcess(overrides: Parameters<typeof startTestServer>[0]): Promise<ParleyServer> {
  const server = await startTestServer(overrides);
  onCleanup(() => server.stop());
  return server;
}

const fast = { backoff: { initialDelayMs: 20, maxDelayMs: 300 } };

/** Collect message seqs from a client subscription into `seqs` until `last` arrives. */
async function collect(
  events: AsyncIterable<{ event: { case: string | undefined; value?: unknown } }>,
  last: number,
  seqs: number[] = [],
) {
  for await (const e of events) {
    if (e.event.case !== "message") continue;
    seqs.push(Number((e.event.value as { seq: bigint }).seq));
    if (seqs.at(-1) === last) break;
  }
  return seqs;
}

/** Poll `done` every 10 ms; fail naming `what` if it is still false after `timeoutMs`. */
async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("createParleyClient", () => {
  it.each(["http", "websocket"] as const)(
    "subscribe survives kill -9 and restart of the server while a sender keeps sending (%s)",
    async (transport) => {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), "parley-client-"));
      onCleanup(() => rmSync(dir, { recursive: true, force: true }));
      const store = `sqlite:${join(dir, "parley.db")}`;
      let server = await spawnOn(port, store);
      const client = createParleyClient({
        baseUrl: `http://127.0.0.1:${port}`,
        ...fast,
        // Retries (at most 300 ms apart) outlast a restart on a busy machine.
        sendAttempts: 1000,
        subscribeAttempts: 1000,
        silenceTimeoutMs: 5000,
        transport,
      });
      const TOTAL = 300;
      const stop = new AbortController();
      onCleanup(() => stop.abort());
      const statuses: SubscriptionStatus["state"][] = [];
      const received = collect(
        client.subscribe("restart", {
          sinceSeq: 0n,
          signal: stop.signal,
          onStatus: (s) => statuses.push(s.state),
        }),
        TOTAL,
      );

      for (let i = 1; i <= TOTAL; i++) {
        const message = await client.send("restart", "pump", `message ${i}`);
        expect(Number(message.seq)).toBe(i);
        if (i === 100 || i === 200) {
          server.process.kill("SIGKILL");
          await server.exited;
          server = await spawnOn(port, store);
        }
      }
      expect(await received).toEqual(range(1, TOTAL));
      expect(statuses.filter((s) => s === "retrying").length).toBeGreaterThanOrEqual(2);
      const history = await client.rpc.history({ room: "restart", limit: 1 });
      expect(history.lastSeq).toBe(BigInt(TOTAL));
    },
    // Three server starts (tsx compiles the sources each time) on a busy machine.
    180_000,
  );

  it("a consumer too slow for the server is cut off, resumes by itself, and loses nothing", async () => {
    // A short grace: the stall below lasts only while the sender floods.
    const server = await inProcess({ queueEvents: 50, queueBytes: 1 << 20, slowGraceMs: 100 });
    const client = createParleyClient({ baseUrl: server.url, ...fast });
    const TOTAL = 2000;
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    const cutOffs: Code[] = [];
    let sent: () => void = () => {};
    const allSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const slowReader = (async () => {
      const seqs: number[] = [];
      const events = client.subscribe("slow", {
        sinceSeq: 0n,
        signal: stop.signal,
        onStatus: (s) => {
          if (s.state === "retrying") cutOffs.push(s.error.code);
        },
      });
      for await (const e of events) {
        if (e.event.case !== "message") continue;
        seqs.push(Number(e.event.value.seq));
        // Stall while the sender floods the room (~900 KB, far beyond the
        // HTTP/2 windows and the 50-event queue), then read on.
        if (seqs.length === 10) await allSent;
        if (seqs.at(-1) === TOTAL) break;
      }
      return seqs;
    })();
    const text = "y".repeat(400);
    for (let i = 1; i <= TOTAL; i += 50) {
      await Promise.all(range(i, i + 49).map((n) => client.send("slow", "pump", `${n} ${text}`)));
    }
    sent();
    expect(await slowReader).toEqual(range(1, TOTAL));
    expect(cutOffs.length).toBeGreaterThan(0);
    expect(new Set(cutOffs)).toEqual(new Set([Code.ResourceExhausted]));
  });

  it("a stream that goes silent is abandoned and resumed on a fresh connection", async () => {
    const server = await inProcess({ heartbeatMs: 100 });
    const proxy = await startFreezableProxy(server.port);
    onCleanup(() => proxy.close());
    const client = createParleyClient({ baseUrl: proxy.url, ...fast, silenceTimeoutMs: 600 });
    const direct = createParleyClient({ baseUrl: server.url });
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    const reasons: string[] = [];
    const seen: number[] = [];
    const received = collect(
      client.subscribe("silence", {
        sinceSeq: 0n,
        signal: stop.signal,
        onStatus: (s) => {
          if (s.state === "retrying") reasons.push(Code[s.error.code] ?? "?");
        },
      }),
      4,
      seen,
    );
    await direct.send("silence", "ann", "one");
    await direct.send("silence", "ann", "two");
    // The subscriber is live once it has both; only then cut the wire silently,
    // so that three and four can reach it only through a resume.
    await waitFor("the subscriber to receive seqs 1 and 2", () => seen.length === 2);
    expect(seen).toEqual([1, 2]);
    proxy.freeze();
    await direct.send("silence", "ann", "three");
    await direct.send("silence", "ann", "four");
    expect(await received).toEqual([1, 2, 3, 4]);
    expect(reasons).toContain("DeadlineExceeded");
  });

  it("seqs are bigints end to end: message.seq resumes as given, a number is refused at once and never retried", async () => {
    const server = await inProcess({});
    const client = createParleyClient({ baseUrl: server.url, ...fast });
    const first = await client.send("bigint-seqs", "ann", "one");
    await client.send("bigint-seqs", "ann", "two");
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    const resumed = client.subscribe("bigint-seqs", { sinceSeq: first.seq, signal: stop.signal });
    expect(await collect(resumed, 2)).toEqual([2]);

    // What issue 14 saw: the natural mistake reconnected forever. Now it is the caller's error.
    const statuses: SubscriptionStatus["state"][] = [];
    let failure: unknown;
    try {
      for await (const _ of client.subscribe("bigint-seqs", {
        sinceSeq: Number(first.seq) as unknown as bigint,
        onStatus: (s) => statuses.push(s.state),
      })) {
        // refused before the first event
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage:
        "sinceSeq must be a bigint from 0n to 2n ** 64n - 1n (as message.seq and ready.lastSeq are), got number 1",
    });
    expect(statuses).toEqual([]);
  });

  it("an epoch change surfaces as ResumeFailedError with the new epoch", async () => {
    const port = await freePort();
    let server = await spawnOn(port, "memory:");
    const client = createParleyClient({ baseUrl: `http://127.0.0.1:${port}`, ...fast });
    await client.send("epochs", "ann", "before");
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    let firstEpoch = "";
    const outcome = (async () => {
      try {
        for await (const e of client.subscribe("epochs", { sinceSeq: 0n, signal: stop.signal })) {
          if (e.event.case === "ready" && firstEpoch === "") firstEpoch = e.event.value.epoch;
          if (e.event.case === "message" && e.event.value.seq === 1n) {
            server.process.kill("SIGKILL");
            await server.exited;
            server = await spawnOn(port, "memory:");
          }
        }
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    const error = await outcome;
    expect(error).toBeInstanceOf(ResumeFailedError);
    const failed = error as ResumeFailedError;
    expect(failed.reason).toBe("epochChanged");
    expect(failed.lastSeq).toBe(1n);
    expect(failed.epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(failed.epoch).not.toBe(firstEpoch);
    expect(failed.cause.code).toBe(Code.FailedPrecondition);
  });
});
