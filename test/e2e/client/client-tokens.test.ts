import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  createParleyClient,
  type GuestToken,
  type Protocol,
  type SubscriptionStatus,
} from "../../../src/client/index.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { startFreezableProxy } from "../../helpers/freezable-proxy.js";
import { startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// The client library carries tokens: a fixed one or a function asked before
// every call, on every protocol; refused tokens are never retried; a guest
// logs in by itself and renews before expiry, and a subscription that
// reconnects after its first token expired carries the renewed one.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
const fast = { backoff: { initialDelayMs: 20, maxDelayMs: 300 } };

const onCleanup = cleanupAfterEach();

async function start(auth: Partial<AuthConfig>, heartbeatMs = 15_000): Promise<ParleyServer> {
  const server = await startTestServer({
    heartbeatMs,
    auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET), ...auth },
  });
  onCleanup(() => server.stop());
  return server;
}

async function failureOf(p: Promise<unknown>): Promise<ConnectError | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    return ConnectError.from(error);
  }
}

/** Iterate a subscription until it throws; the error, or undefined if it ended. */
async function subscriptionFailure(events: AsyncIterable<unknown>) {
  return failureOf(
    (async () => {
      for await (const _ of events) {
        // refused before any event
      }
    })(),
  );
}

/** Message texts of a subscription until `count` arrive, with each seq. */
async function messages(
  events: AsyncIterable<{ event: { case: string | undefined; value?: unknown } }>,
  count: number,
  seen: string[] = [],
) {
  for await (const e of events) {
    if (e.event.case !== "message") continue;
    const m = e.event.value as { seq: bigint; author: string; text: string };
    seen.push(`${m.seq} ${m.author} ${m.text}`);
    if (seen.length === count) break;
  }
  return seen;
}

/** Poll `done` every 10 ms; fail naming `what` if it is still false after `timeoutMs`. */
async function waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const PROTOCOLS: [Protocol, "1.1" | "2"][] = [
  ["connect", "1.1"],
  ["connect", "2"],
  ["grpc", "2"],
  ["grpcweb", "1.1"],
  ["grpcweb", "2"],
];

describe("tokens in the client library", () => {
  it.each(PROTOCOLS)(
    "%s over HTTP/%s: a token string goes on every call, unary and streaming",
    async (protocol, httpVersion) => {
      const server = await start({});
      const token = await hsToken(SECRET, { sub: "ann" });
      const parley = createParleyClient({ baseUrl: server.url, protocol, httpVersion, token });
      // An empty author takes the token's subject.
      const sent = await parley.send("tokens", "", "hello");
      expect([sent.seq, sent.author, sent.text]).toEqual([1n, "ann", "hello"]);
      const stop = new AbortController();
      onCleanup(() => stop.abort());
      expect(
        await messages(parley.subscribe("tokens", { sinceSeq: 0n, signal: stop.signal }), 1),
      ).toEqual(["1 ann hello"]);
      const history = await parley.rpc.history({ room: "tokens" });
      expect(history.messages.map((m) => m.text)).toEqual(["hello"]);
    },
  );

  it("a token function is asked before every call, so a renewed token is used from the next call on", async () => {
    const server = await start({});
    const tokens = {
      ann: await hsToken(SECRET, { sub: "ann" }),
      bob: await hsToken(SECRET, { sub: "bob" }),
    };
    let holder: "ann" | "bob" = "ann";
    let asked = 0;
    const parley = createParleyClient({
      baseUrl: server.url,
      token: async () => {
        asked++;
        return tokens[holder];
      },
    });
    await parley.send("fn", "", "one");
    await parley.send("fn", "", "two");
    holder = "bob";
    await parley.send("fn", "", "three");
    expect(asked).toBe(3);
    const history = await parley.rpc.history({ room: "fn" });
    expect(history.messages.map((m) => `${m.author} ${m.text}`)).toEqual([
      "ann one",
      "ann two",
      "bob three",
    ]);
    expect(asked).toBe(4);
  });

  it.each(["connect", "grpc", "grpcweb"] as const)(
    "%s: UNAUTHENTICATED and PERMISSION_DENIED are never retried, by send or subscribe, and store nothing",
    async (protocol) => {
      const server = await start({});
      const expired = await hsToken(SECRET, { sub: "ann", expiresInS: -120 });
      const ann = await hsToken(SECRET, { sub: "ann", rooms: ["team-*"] });
      let asked = 0;
      const counted = (token: string) => () => {
        asked++;
        return token;
      };
      const options = { baseUrl: server.url, protocol, ...fast, sendAttempts: 8 };

      const stale = createParleyClient({ ...options, token: counted(expired) });
      const unauthenticated = await failureOf(stale.send("team-a", "", "never"));
      expect([unauthenticated?.code, unauthenticated?.rawMessage, asked]).toEqual([
        Code.Unauthenticated,
        "token rejected: it has expired",
        1,
      ]);
      const unauthenticatedStream = await subscriptionFailure(
        stale.subscribe("team-a", { sinceSeq: 0n }),
      );
      expect([unauthenticatedStream?.code, asked]).toEqual([Code.Unauthenticated, 2]);

      asked = 0;
      const narrow = createParleyClient({ ...options, token: counted(ann) });
      const wrongAuthor = await failureOf(narrow.send("team-a", "bob", "never"));
      expect([wrongAuthor?.code, wrongAuthor?.rawMessage, asked]).toEqual([
        Code.PermissionDenied,
        'author: "bob" is not the token\'s subject "ann"; leave it empty or use the subject',
        1,
      ]);
      const statuses: SubscriptionStatus["state"][] = [];
      const privateRoom = await subscriptionFailure(
        narrow.subscribe("open-room", { sinceSeq: 0n, onStatus: (s) => statuses.push(s.state) }),
      );
      expect([privateRoom?.code, privateRoom?.rawMessage, asked, statuses]).toEqual([
        Code.PermissionDenied,
        'room "open-room" is private: the token of "ann" does not list it in its rooms claim',
        2,
        ["connecting"],
      ]);
      const history = await narrow.rpc.history({ room: "team-a" });
      expect(history.messages).toEqual([]);
    },
  );
});

describe("guest logins in the client library", () => {
  it("login returns the token and its expiry; the name is then held; a jwt server refuses Login", async () => {
    const guestServer = await start({ mode: "guest", secretFile: undefined, guestTokenTtlS: 600 });
    const before = Date.now();
    const parley = createParleyClient({ baseUrl: guestServer.url });
    const login = await parley.login("  dana ");
    expect([login.subject, login.scopes]).toEqual(["dana", ["chat:read", "chat:write"]]);
    // exp is whole seconds, so the expiry is the second the lifetime ends in.
    expect(login.expiresAt.getTime()).toBeGreaterThanOrEqual(
      Math.floor((before + 600_000) / 1000) * 1000,
    );
    expect(login.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 600_000);
    const taken = await failureOf(parley.login("dana"));
    expect([taken?.code, taken?.rawMessage]).toEqual([
      Code.AlreadyExists,
      'name: "dana" is in use by another guest; pick another name',
    ]);
    // The holder renews with its own token.
    const renewed = await parley.login("dana", { token: login.token });
    expect(renewed.subject).toBe("dana");

    const jwtServer = await start({});
    const refused = await failureOf(createParleyClient({ baseUrl: jwtServer.url }).login("dana"));
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.FailedPrecondition,
      "Login is off: this server takes tokens from its operator's identity system (--auth jwt)",
    ]);
  });

  it("a guest client logs in on its first call and renews before expiry; a subscription reconnecting after the first token expired carries the renewed one, with no gap", async () => {
    // 3 s tokens and no clock skew, so that the first token is really refused
    // within the test; heartbeats every 100 ms keep the live stream from
    // looking silent.
    const server = await start(
      { mode: "guest", secretFile: undefined, guestTokenTtlS: 3, clockSkewS: 0 },
      100,
    );
    const proxy = await startFreezableProxy(server.port);
    onCleanup(() => proxy.close());
    const logins: GuestToken[] = [];
    const ann = createParleyClient({
      baseUrl: proxy.url,
      guest: { name: "ann", onLogin: (t) => logins.push(t) },
      silenceTimeoutMs: 600,
      ...fast,
    });
    onCleanup(() => ann.guest?.stop());
    const bob = createParleyClient({ baseUrl: server.url, guest: "bob" });
    onCleanup(() => bob.guest?.stop());

    const stop = new AbortController();
    onCleanup(() => stop.abort());
    const statuses: SubscriptionStatus["state"][] = [];
    const seen: string[] = [];
    const received = messages(
      ann.subscribe("renewal", {
        sinceSeq: 0n,
        signal: stop.signal,
        onStatus: (s) => statuses.push(s.state),
      }),
      4,
      seen,
    );
    await bob.send("renewal", "", "one");
    await waitFor("the subscriber to receive seq 1", () => seen.length === 1);
    expect(logins.map((t) => t.subject)).toEqual(["ann"]);
    const first = logins[0] as GuestToken;

    // Renewed in the background while the stream stays open; wait until the
    // first token has expired and is refused by the server.
    await waitFor("the first token to expire", () => Date.now() > first.expiresAt.getTime() + 1000);
    expect(logins.length).toBeGreaterThanOrEqual(2);
    expect(new Set(logins.map((t) => t.token)).size).toBe(logins.length);
    const refused = await failureOf(
      createParleyClient({ baseUrl: server.url, token: first.token }).send("renewal", "", "x"),
    );
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.Unauthenticated,
      "token rejected: it has expired",
    ]);
    await bob.send("renewal", "", "two");
    await waitFor("the subscriber to receive seq 2", () => seen.length === 2);

    // Cut the wire silently: the subscription must reconnect, and can only
    // with the renewed token.
    proxy.freeze();
    await bob.send("renewal", "", "three");
    await bob.send("renewal", "", "four");
    expect(await received).toEqual(["1 bob one", "2 bob two", "3 bob three", "4 bob four"]);
    expect(statuses.filter((s) => s === "live").length).toBe(2);
    expect(statuses).toContain("retrying");
    // Its own sends still go through as ann, with the current token.
    const own = await ann.send("renewal", "", "five");
    expect([own.seq, own.author]).toEqual([5n, "ann"]);
  });
});
