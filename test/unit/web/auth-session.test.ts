import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { AuthSession, type LoginCall, type SessionEnd } from "../../../web/src/auth-session.js";

// The web app's sign-in session on a fake clock, with Login scripted: when it
// renews, what it retries, and how it ends.

const LIFETIME_S = 10;

/** An unsigned JWT with these claims: the page only reads them, the server verifies. */
function token(sub: string, n: number): string {
  const iat = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "HS256" })}.${part({ sub, iat, exp: iat + LIFETIME_S, n })}.sig`;
}

let calls: { name: string; heldToken: string | undefined }[];
let ended: SessionEnd[];

/** A session whose Login answers with `answer(call number)`. */
function session(answer: (n: number, name: string) => Promise<{ token: string }>): AuthSession {
  const s: AuthSession = new AuthSession((({ name }) => {
    calls.push({ name, heldToken: s.token });
    // No guest key: a renewal with a token alone answers none.
    return answer(calls.length, name).then((a) => ({ guestKey: "", ...a }));
  }) satisfies LoginCall);
  s.mode = "guest";
  s.onEnded = (end) => ended.push(end);
  return s;
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-12-01T12:00:00Z") });
  calls = [];
  ended = [];
});
afterEach(() => {
  vi.useRealTimers();
});

it("renews at half the token's lifetime, with the token in hand, as long as Login answers", async () => {
  const s = session(async (n, name) => ({ token: token(name, n) }));
  expect(await s.logIn("ann")).toBe("ann");
  const first = s.token;
  await vi.advanceTimersByTimeAsync(LIFETIME_S * 500 - 1);
  expect(calls).toEqual([{ name: "ann", heldToken: undefined }]);
  await vi.advanceTimersByTimeAsync(1);
  expect(calls).toEqual([
    { name: "ann", heldToken: undefined },
    { name: "ann", heldToken: first },
  ]);
  const second = s.token;
  expect(second).not.toBe(first);
  await vi.advanceTimersByTimeAsync(LIFETIME_S * 500);
  expect(calls.map((c) => c.heldToken)).toEqual([undefined, first, second]);
  expect([s.subject, ended]).toEqual(["ann", []]);
});

it("retries a renewal the network fails until the token expires, then ends the session once, saying so", async () => {
  const s = session(async (n, name) => {
    if (n === 1) return { token: token(name, n) };
    throw new ConnectError("no connection", Code.Unavailable);
  });
  await s.logIn("ann");
  await vi.advanceTimersByTimeAsync(LIFETIME_S * 1000);
  expect(calls.length).toBeGreaterThan(2);
  expect(ended).toEqual([
    {
      kind: "expired",
      name: "ann",
      detail: "The sign-in of ann expired: the server could not be reached to renew it.",
    },
  ]);
  expect(s.token).toBeUndefined();
  const tries = calls.length;
  await vi.advanceTimersByTimeAsync(60_000);
  expect(calls.length).toBe(tries);
});

it("ends the session at once when the server refuses the renewal, with its reason", async () => {
  const s = session(async (n, name) => {
    if (n === 1) return { token: token(name, n) };
    throw new ConnectError(`name: "${name}" is in use by another guest`, Code.AlreadyExists);
  });
  await s.logIn("ann");
  await vi.advanceTimersByTimeAsync(LIFETIME_S * 500);
  expect(calls.length).toBe(2);
  expect(ended).toEqual([
    {
      kind: "expired",
      name: "ann",
      detail:
        'The sign-in of ann expired and could not be renewed: name: "ann" is in use by another guest',
    },
  ]);
});

it("ends once for a refused call, naming the method for PERMISSION_DENIED, and stops renewing", async () => {
  const s = session(async (n, name) => ({ token: token(name, n) }));
  await s.logIn("ann");
  s.refused(new ConnectError('room "x" is private', Code.PermissionDenied), "Subscribe");
  s.refused(new ConnectError("token rejected: it has expired", Code.Unauthenticated), "History");
  expect(ended).toEqual([
    {
      kind: "denied",
      name: "ann",
      detail: 'The server does not allow Subscribe for ann: room "x" is private',
    },
  ]);
  await vi.advanceTimersByTimeAsync(LIFETIME_S * 1000);
  expect(calls.length).toBe(1);
});

it("refuses to adopt something that is not a JWT with a subject", () => {
  const s = session(async () => ({ token: "" }));
  expect(() => s.adopt("not-a-token")).toThrow("this is not a token: a JWT with a sub claim");
  expect(s.adopt(` ${token("zoe", 1)}\n`)).toBe("zoe");
});
