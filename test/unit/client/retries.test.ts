import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createRouterTransport,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  ChatService,
  type SendRequest,
  type SubscribeRequest,
  type SubscribeResponseSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import {
  createParleyClientWith,
  type ParleyClientCoreOptions,
  type SubscriptionStatus,
} from "../../../src/client/index.js";

// The client library against a stub ChatService in memory (connect's router
// transport): each handler fails or answers as the test scripts it, and
// records every call it gets, so the tests count attempts exactly.

type Response = MessageInitShape<typeof SubscribeResponseSchema>;

const tiny = { backoff: { initialDelayMs: 1, maxDelayMs: 2 } };

function stub(
  impl: {
    send?: (req: SendRequest, call: number) => void;
    subscribe?: (req: SubscribeRequest, call: number) => AsyncIterable<Response>;
  },
  options: Partial<ParleyClientCoreOptions> = {},
  interceptors: Interceptor[] = [],
) {
  const sends: SendRequest[] = [];
  const subscribes: SubscribeRequest[] = [];
  const service: Partial<ServiceImpl<typeof ChatService>> = {
    send(req) {
      sends.push(req);
      impl.send?.(req, sends.length);
      return { message: { room: req.room, seq: 1n, author: req.author, text: req.text } };
    },
    async *subscribe(req) {
      subscribes.push(req);
      if (impl.subscribe) yield* impl.subscribe(req, subscribes.length);
    },
  };
  const transport = createRouterTransport((router) => router.service(ChatService, service), {
    transport: { interceptors },
  });
  const client = createParleyClientWith({ transport, ...tiny, ...options });
  return { client, sends, subscribes };
}

const ready = (lastSeq: bigint): Response => ({
  events: [{ event: { case: "ready", value: { room: "r", epoch: "e1", lastSeq } } }],
});
const messages = (...seqs: bigint[]): Response => ({
  events: seqs.map((seq) => ({
    event: { case: "message" as const, value: { room: "r", seq, text: `m${seq}` } },
  })),
});

/** Read a subscription to its end: the message seqs it yielded, and what it threw. */
async function drain(events: AsyncIterable<{ event: { case: string | undefined } }>) {
  const seqs: bigint[] = [];
  try {
    for await (const e of events) {
      if (e.event.case === "message")
        seqs.push((e.event as unknown as { value: { seq: bigint } }).value.seq);
    }
    return { seqs, error: undefined };
  } catch (error) {
    return { seqs, error: ConnectError.from(error) };
  }
}

/**
 * The first `times` attempts fail in the client's transport, as connect's
 * transports report a failure there, before the request reaches the server.
 */
function failInTransport(make: () => ConnectError, times: number) {
  let attempts = 0;
  const interceptor: Interceptor = (next) => async (req) => {
    if (attempts++ < times) throw make();
    return next(req);
  };
  return { interceptor, attempts: () => attempts };
}

const connReset = () =>
  ConnectError.from(
    Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    Code.Aborted,
  );
const fetchFailed = () => ConnectError.from(new TypeError("Failed to fetch"), Code.Unknown);
const callerBug = () =>
  ConnectError.from(new TypeError("Cannot mix BigInt and other types"), Code.Unknown);

/** Codes a call must not repeat (FAILED_PRECONDITION on Subscribe is a refused resume, tested apart). */
const NOT_RETRIED = [
  Code.Internal,
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Aborted,
  Code.ResourceExhausted,
  Code.InvalidArgument,
  Code.PermissionDenied,
];

describe("send", () => {
  it.each(NOT_RETRIED.map((code) => [Code[code], code]))(
    "%s from the server is tried exactly once and surfaces",
    async (_name, code) => {
      const { client, sends } = stub({
        send() {
          throw new ConnectError("scripted failure", code);
        },
      });
      await expect(client.send("r", "ann", "hi")).rejects.toMatchObject({
        code,
        rawMessage: "scripted failure",
      });
      expect(sends.length).toBe(1);
    },
  );

  it("UNAVAILABLE is retried up to sendAttempts with one idempotency key, then surfaces", async () => {
    const { client, sends } = stub(
      {
        send() {
          throw new ConnectError("restarting", Code.Unavailable);
        },
      },
      { sendAttempts: 4 },
    );
    await expect(client.send("r", "ann", "hi")).rejects.toMatchObject({
      code: Code.Unavailable,
      rawMessage: "restarting",
    });
    expect(sends.length).toBe(4);
    expect(new Set(sends.map((s) => s.clientMessageId)).size).toBe(1);
  });

  it("UNAVAILABLE twice, then the answer: three calls, the stored message returned", async () => {
    const { client, sends } = stub({
      send(_req, call) {
        if (call < 3) throw new ConnectError("restarting", Code.Unavailable);
      },
    });
    const message = await client.send("r", "ann", "hi", { clientMessageId: "k1" });
    expect([message.seq, message.text]).toEqual([1n, "hi"]);
    expect(sends.map((s) => s.clientMessageId)).toEqual(["k1", "k1", "k1"]);
  });

  it.each([
    ["a reset over HTTP/1.1 (ABORTED, cause ECONNRESET)", 3, connReset],
    ["fetch's network failure (UNKNOWN, cause TypeError)", 3, fetchFailed],
    ["the caller's own TypeError (UNKNOWN)", 1, callerBug],
  ] as const)("%s: %i attempts", async (_name, attempts, make) => {
    const failures = failInTransport(make, 2);
    const { client, sends } = stub({}, {}, [failures.interceptor]);
    const outcome = await client.send("r", "ann", "hi").then(
      (m) => m.seq,
      (e: unknown) => Code[ConnectError.from(e).code],
    );
    expect(failures.attempts()).toBe(attempts);
    expect(outcome).toEqual(attempts === 3 ? 1n : "Unknown");
    expect(sends.length).toBe(attempts === 3 ? 1 : 0);
  });
});

describe("subscribe", () => {
  it.each(NOT_RETRIED.map((code) => [Code[code], code]))(
    "%s before ready is tried exactly once and surfaces",
    async (_name, code) => {
      const { client, subscribes } = stub({
        // biome-ignore lint/correctness/useYield: fails before its first response
        async *subscribe() {
          throw new ConnectError("scripted failure", code);
        },
      });
      const { error } = await drain(client.subscribe("r", { sinceSeq: 0n }));
      expect([error?.code, error?.rawMessage]).toEqual([code, "scripted failure"]);
      expect(subscribes.length).toBe(1);
    },
  );

  it("UNAVAILABLE is retried up to subscribeAttempts connections, then surfaces", async () => {
    const statuses: SubscriptionStatus["state"][] = [];
    const { client, subscribes } = stub(
      {
        async *subscribe() {
          yield ready(0n);
          throw new ConnectError("restarting", Code.Unavailable);
        },
      },
      { subscribeAttempts: 5 },
    );
    const { error } = await drain(
      client.subscribe("r", { sinceSeq: 0n, onStatus: (s) => statuses.push(s.state) }),
    );
    expect([error?.code, error?.rawMessage]).toEqual([Code.Unavailable, "restarting"]);
    expect(subscribes.length).toBe(5);
    expect(statuses.filter((s) => s === "retrying").length).toBe(4);
  });

  it("the cap counts connections in a row without progress: one that delivers a message starts the count again", async () => {
    const { client, subscribes } = stub(
      {
        async *subscribe(req, call) {
          yield ready(6n);
          if (call <= 6) yield messages((req.sinceSeq ?? 0n) + 1n);
          throw new ConnectError("flaky", Code.Unavailable);
        },
      },
      { subscribeAttempts: 2 },
    );
    const { seqs, error } = await drain(client.subscribe("r", { sinceSeq: 0n }));
    expect(seqs).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(subscribes.map((s) => s.sinceSeq)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 6n]);
    expect(error?.code).toBe(Code.Unavailable);
  });

  it("RESOURCE_EXHAUSTED after ready is a slow-subscriber cut-off: it resumes from the last seq and loses nothing", async () => {
    const { client, subscribes } = stub({
      async *subscribe(req, call) {
        yield ready(5n);
        if (call === 1) {
          yield messages(1n, 2n);
          throw new ConnectError("subscriber too slow", Code.ResourceExhausted);
        }
        yield messages(...[1n, 2n, 3n, 4n, 5n].filter((s) => s > (req.sinceSeq ?? 0n)));
        throw new ConnectError("unimplemented end", Code.Unimplemented);
      },
    });
    const { seqs, error } = await drain(client.subscribe("r", { sinceSeq: 0n }));
    expect(seqs).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(subscribes.map((s) => s.sinceSeq)).toEqual([0n, 2n]);
    expect(error?.code).toBe(Code.Unimplemented);
  });

  it("its own silence watchdog (DEADLINE_EXCEEDED) reconnects, unlike the server's", async () => {
    const { client, subscribes } = stub(
      {
        async *subscribe(_req, call) {
          yield ready(1n);
          if (call === 1) await new Promise(() => {}); // silent: never answers again
          yield messages(1n);
          throw new ConnectError("done", Code.Unimplemented);
        },
      },
      { silenceTimeoutMs: 50 },
    );
    const reasons: string[] = [];
    const { seqs, error } = await drain(
      client.subscribe("r", {
        sinceSeq: 0n,
        onStatus: (s) => {
          if (s.state === "retrying") reasons.push(s.error.rawMessage);
        },
      }),
    );
    expect(seqs).toEqual([1n]);
    expect(reasons).toEqual(["no event for 50 ms"]);
    expect(subscribes.length).toBe(2);
    expect(error?.code).toBe(Code.Unimplemented);
  });
});

describe("seqs are bigints end to end (issue 14, point 1)", () => {
  it("a resume point taken from ready.lastSeq or message.seq goes out as given", async () => {
    const { client, subscribes } = stub({
      async *subscribe() {
        yield ready(7n);
        throw new ConnectError("done", Code.Unimplemented);
      },
    });
    let lastSeq: bigint | undefined;
    const first = await drain(
      client.subscribe("r", {
        onStatus: (s) => {
          if (s.state === "live") lastSeq = s.lastSeq;
        },
      }),
    );
    expect(first.error?.code).toBe(Code.Unimplemented);
    expect(lastSeq).toBe(7n);
    await drain(client.subscribe("r", { sinceSeq: lastSeq }));
    expect(subscribes.map((s) => s.sinceSeq)).toEqual([undefined, 7n]);
  });

  it.each([
    ["a number", 5],
    ["a negative bigint", -1n],
    ["a string", "5"],
  ])(
    "sinceSeq as %s is the caller's mistake: INVALID_ARGUMENT, no call, no retry",
    async (_name, bad) => {
      const { client, subscribes } = stub({});
      const { error } = await drain(client.subscribe("r", { sinceSeq: bad as unknown as bigint }));
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toBe(
        `sinceSeq must be a bigint from 0n to 2n ** 64n - 1n (as message.seq and ready.lastSeq are), got ${typeof bad} ${String(bad)}`,
      );
      expect(subscribes.length).toBe(0);
    },
  );
});
