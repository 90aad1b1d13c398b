import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { retryDelayMs } from "../../../src/wire/retry-info.js";
import { runCli } from "../../helpers/run-cli.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// Per-user limits and guest logins, through the RPCs.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
let server: ParleyServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(overrides: Partial<AuthConfig>) {
  server = await startTestServer({
    auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET), ...overrides },
  });
  return server;
}

const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe("per-user limits", () => {
  it.each(["grpc-h2", "connect-h1"] as const)(
    "%s: a sender past its rate gets RESOURCE_EXHAUSTED with RetryInfo, and the message is not stored",
    async (transport) => {
      const s = await start({
        limits: { ...AUTH_DEFAULTS.limits, sends: { perSecond: 1, burst: 3 } },
      });
      const headers = { authorization: `Bearer ${await hsToken(SECRET, { sub: "ann" })}` };
      const client = chatClient(s.url, transport);
      for (const text of ["1", "2", "3"]) await client.send({ room: "r", text }, { headers });
      const refused = await caught(client.send({ room: "r", text: "4" }, { headers }));
      expect(refused?.code).toBe(Code.ResourceExhausted);
      expect(refused?.rawMessage).toMatch(
        /^"ann" sends messages faster than the limit of 1\/s \(bursts of 3\); retry in \d+ ms$/,
      );
      const [detail] = refused?.details ?? [];
      expect(detail && "type" in detail ? detail.type : undefined).toBe("google.rpc.RetryInfo");
      // RetryInfo { Duration retry_delay = 1 }: the delay sits in field 1.
      const bytes = detail && "value" in detail ? (detail.value as Uint8Array) : new Uint8Array();
      const delay = fromBinary(DurationSchema, bytes.subarray(2));
      const delayMs = Number(delay.seconds) * 1000 + delay.nanos / 1e6;
      expect(delayMs).toBeGreaterThan(0);
      expect(delayMs).toBeLessThanOrEqual(1000);
      // The clients' reader (the web page paces pastes by it) reads the same delay.
      expect(retryDelayMs(refused as ConnectError)).toBe(delayMs);
      const history = await client.history({ room: "r" }, { headers });
      expect(history.messages.map((m) => m.text)).toEqual(["1", "2", "3"]);
    },
  );

  it("a user past its stream cap is refused cleanly, and the streams it has stay open", async () => {
    const s = await start({ limits: { ...AUTH_DEFAULTS.limits, maxStreams: 2 } });
    const headers = { authorization: `Bearer ${await hsToken(SECRET, { sub: "ann" })}` };
    const client = chatClient(s.url, "grpc-h2");
    const stop = new AbortController();
    const open = [0, 1].map(() =>
      client.subscribe({ room: "r" }, { headers, signal: stop.signal })[Symbol.asyncIterator](),
    );
    for (const it of open) expect((await it.next()).value?.events[0]?.event.case).toBe("ready");
    const third = client.subscribe({ room: "r" }, { headers })[Symbol.asyncIterator]();
    const refused = await caught(third.next());
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.ResourceExhausted,
      '"ann" has 2 streams open, the limit per user; close one first',
    ]);
    // Another user is not affected.
    const bob = { authorization: `Bearer ${await hsToken(SECRET, { sub: "bob" })}` };
    const other = client
      .subscribe({ room: "r" }, { headers: bob, signal: stop.signal })
      [Symbol.asyncIterator]();
    expect((await other.next()).value?.events[0]?.event.case).toBe("ready");
    const members = await client.listMembers({ room: "r" }, { headers });
    expect(members.members.map((m) => m.author)).toEqual(["ann", "ann", "bob"]);
    stop.abort();
  });
});

describe("--auth-secret-file", () => {
  it("takes a raw key's bytes exactly, a last 0x0a included, and refuses a token signed with other bytes", async () => {
    // Not UTF-8 (0xff never is), and ending in what a text file's newline would be.
    const key = new Uint8Array(48).map((_, i) => (i * 37 + 11) % 256);
    key[0] = 0xff;
    key[47] = 0x0a;
    const file = join(mkdtempSync(join(tmpdir(), "parley-raw-key-")), "key.bin");
    writeFileSync(file, key, { mode: 0o600 });
    onTestFinished(() => rmSync(dirname(file), { recursive: true, force: true }));
    const s = await start({ secretFile: file });
    const client = chatClient(s.url);
    const sendWith = async (secret: Uint8Array) => {
      const token = await hsToken(secret, { sub: "ann" });
      return client.send(
        { room: "r", text: "hi" },
        { headers: { authorization: `Bearer ${token}` } },
      );
    };
    expect((await sendWith(key)).message?.seq).toBe(1n);
    const refused = await caught(sendWith(key.subarray(0, 47)));
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.Unauthenticated,
      "token rejected: its signature does not verify with this server's keys",
    ]);
  });
});

describe("--auth-issuer and --auth-audience", () => {
  it("take a token with both claims, and refuse one whose iss or aud differs or is missing, storing nothing", async () => {
    const s = await start({ issuer: "https://id.example", audience: "parley" });
    const client = chatClient(s.url);
    const send = async (claims: { iss?: string; aud?: string }, text: string) => {
      const token = await hsToken(SECRET, { sub: "ann", ...claims });
      return client.send(
        { room: "lobby", text },
        { headers: { authorization: `Bearer ${token}` } },
      );
    };
    const ok = await send({ iss: "https://id.example", aud: "parley" }, "right");
    expect(ok.message?.seq).toBe(1n);
    const refusals = [];
    for (const claims of [
      { iss: "https://other.example", aud: "parley" },
      { aud: "parley" },
      { iss: "https://id.example", aud: "other" },
      { iss: "https://id.example" },
    ]) {
      const e = await caught(send(claims, "wrong"));
      refusals.push([e?.code, e?.rawMessage]);
    }
    const check = (claim: string, what: string) => [
      Code.Unauthenticated,
      `token rejected: a claim check failed (${claim}: ${what} "${claim}" claim${what === "unexpected" ? " value" : ""})`,
    ];
    expect(refusals).toEqual([
      check("iss", "unexpected"),
      check("iss", "missing required"),
      check("aud", "unexpected"),
      check("aud", "missing required"),
    ]);
    const history = await client.history(
      { room: "lobby" },
      {
        headers: {
          authorization: `Bearer ${await hsToken(SECRET, { sub: "ann", iss: "https://id.example", aud: "parley" })}`,
        },
      },
    );
    expect(history.messages.map((m) => m.text)).toEqual(["right"]);
  });
});

describe("guest logins", () => {
  it("Login gives a token for a free name; the name is held; its holder renews it", async () => {
    const s = await start({ mode: "guest", secretFile: undefined, guestTokenTtlS: 60 });
    const client = chatClient(s.url);
    const first = await client.login({ name: "  ann " });
    expect([first.subject, first.scopes]).toEqual(["ann", ["chat:read", "chat:write"]]);
    const ttlMs = Number(first.expiresAt?.seconds) * 1000 - Date.now();
    expect(ttlMs).toBeGreaterThan(55_000);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
    const headers = { authorization: `Bearer ${first.token}` };
    const sent = await client.send({ room: "lobby", text: "hi" }, { headers });
    expect(sent.message?.author).toBe("ann");

    const taken = await caught(client.login({ name: "ann" }));
    expect([taken?.code, taken?.rawMessage]).toEqual([
      Code.AlreadyExists,
      'name: "ann" is in use by another guest; pick another name',
    ]);
    const renewed = await client.login({ name: "ann" }, { headers });
    expect(renewed.subject).toBe("ann");
    const bad = await caught(client.login({ name: "" }));
    expect(bad?.code).toBe(Code.InvalidArgument);
    const anonymous = await caught(client.send({ room: "lobby", text: "hi" }));
    expect(anonymous?.code).toBe(Code.Unauthenticated);
  });

  it("Login is off in jwt mode, and says where tokens come from", async () => {
    const s = await start({});
    const refused = await caught(chatClient(s.url).login({ name: "ann" }));
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.FailedPrecondition,
      "Login is off: this server takes tokens from its operator's identity system (--auth jwt)",
    ]);
  });
});

describe("parley token", () => {
  it("mints a token the server accepts, with the scopes and rooms asked for", async () => {
    const file = secretFile(SECRET);
    const s = await start({ secretFile: file });
    const client = chatClient(s.url);
    const minted = await runCli(["token", "--sub", "ann", "--secret-file", file]);
    expect([minted.code, minted.stderr]).toEqual([0, ""]);
    const headers = { authorization: `Bearer ${minted.stdout.trim()}` };
    expect((await client.send({ room: "r", text: "hi" }, { headers })).message?.author).toBe("ann");

    const reader = await runCli([
      "token",
      "--sub",
      "ann",
      "--scope",
      "chat:read",
      "--rooms",
      "r",
      "--secret-file",
      file,
    ]);
    const readOnly = { authorization: `Bearer ${reader.stdout.trim()}` };
    expect(
      (await caught(client.send({ room: "r", text: "no" }, { headers: readOnly })))?.code,
    ).toBe(Code.PermissionDenied);
    expect((await client.history({ room: "r" }, { headers: readOnly })).messages).toHaveLength(1);
    expect((await caught(client.history({ room: "s" }, { headers: readOnly })))?.code).toBe(
      Code.PermissionDenied,
    );

    const missing = await runCli(["token", "--sub", "ann"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("--secret-file");
  });
});
