import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { authInterceptor } from "../../../web/src/auth-interceptor.js";
import { type AuthMode, modeWithoutGuests } from "../../../web/src/auth-mode.js";
import { AuthSession, type SessionEnd } from "../../../web/src/auth-session.js";
import { startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// The web app's sign-in modules (they use nothing of the DOM that Node lacks)
// against real servers in each --auth mode, over connect-node's Connect
// transport: what mode the page sees, and what its interceptor does with a
// token the server refuses.

const SECRET = "web-auth-test-secret-0123456789abcdefghij";

function auth(mode: AuthConfig["mode"]): AuthConfig {
  return { ...AUTH_DEFAULTS, mode, secretFile: mode === "off" ? undefined : secretFile(SECRET) };
}

const servers: Partial<Record<AuthMode, ParleyServer>> = {};
beforeAll(async () => {
  for (const mode of ["off", "guest", "jwt"] as const) {
    servers[mode] = await startTestServer({ auth: auth(mode) });
  }
});
afterAll(async () => {
  for (const server of Object.values(servers)) await server.stop();
});

/** A page's client: the sign-in interceptor, then a counter of the calls that go out. */
function page(mode: AuthMode) {
  const session: AuthSession = new AuthSession((request, timeoutMs) =>
    rpc.login(request, { timeoutMs }),
  );
  const sent: string[] = [];
  const count: Interceptor = (next) => (req) => {
    sent.push(req.method.name);
    return next(req);
  };
  const rpc: Client<typeof ChatService> = createClient(
    ChatService,
    createConnectTransport({
      baseUrl: servers[mode]?.url ?? "",
      httpVersion: "1.1",
      interceptors: [authInterceptor(session), count],
    }),
  );
  const ended: SessionEnd[] = [];
  session.onEnded = (end) => ended.push(end);
  return { session, rpc, sent, ended };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => {
      const error = ConnectError.from(e);
      return [error.code, error.rawMessage];
    },
  );

it.each(["off", "jwt"] as const)(
  "tells --auth %s from the contract alone once Login hands out no guest tokens",
  async (mode) => {
    const { rpc, sent } = page(mode);
    expect(await failure(rpc.login({ name: "ann" }))).toEqual([
      Code.FailedPrecondition,
      expect.any(String),
    ]);
    expect(await modeWithoutGuests(rpc)).toBe(mode);
    expect(sent).toEqual(["Login", "ListRooms"]);
  },
);

describe("with --auth guest", () => {
  it("logs in, sends as the token's subject, and has a held name refused", async () => {
    const ann = page("guest");
    ann.session.mode = "guest";
    expect(await ann.session.logIn(" ann ")).toBe("ann");
    const sent = await ann.rpc.send({ room: "web-auth", author: "", text: "hi" });
    expect([sent.message?.author, sent.message?.text]).toEqual(["ann", "hi"]);

    const other = page("guest");
    other.session.mode = "guest";
    expect(await failure(other.session.logIn("ann"))).toEqual([
      Code.AlreadyExists,
      'name: "ann" is in use by another guest; pick another name',
    ]);
    expect(other.session.token).toBeUndefined();
  });

  it("logs in again by itself, once, when its token is refused, and the call goes through", async () => {
    const p = page("guest");
    p.session.mode = "guest";
    p.session.adopt(await hsToken("another-secret-0123456789abcdefghijklmn", { sub: "bea" }));
    const refused = p.session.token;
    expect(await p.rpc.listRooms({})).toBeDefined();
    expect(p.sent).toEqual(["ListRooms", "Login", "ListRooms"]);
    expect(p.session.subject).toBe("bea");
    expect(p.session.token).not.toBe(refused);
    expect(p.ended).toEqual([]);
  });

  it("ends the session once when logging in again fails, and sends nothing with the token after that", async () => {
    const p = page("guest");
    p.session.mode = "guest";
    p.session.adopt(await hsToken("another-secret-0123456789abcdefghijklmn", { sub: "cal" }));
    // Someone else holds the name now, and this page has no key for it.
    await page("guest").session.logIn("cal");
    expect(await failure(p.rpc.listRooms({}))).toEqual([
      Code.Unauthenticated,
      "token rejected: its signature does not verify with this server's keys",
    ]);
    expect(p.ended).toEqual([
      {
        kind: "refused",
        name: "cal",
        detail:
          "The server no longer accepts the sign-in of cal (token rejected: its signature does not verify with this server's keys), and logging in again failed: another guest holds the name cal now",
      },
    ]);
    expect(await failure(p.rpc.history({ room: "web-auth" }))).toEqual([
      Code.Unauthenticated,
      "History: not signed in",
    ]);
    expect(p.sent).toEqual(["ListRooms", "Login"]);
  });
});

describe("with --auth jwt", () => {
  it("ends the session when a stream is refused PERMISSION_DENIED while it is read", async () => {
    const p = page("jwt");
    p.session.mode = "jwt";
    p.session.adopt(await hsToken(SECRET, { sub: "cy", rooms: ["team-*"] }));
    const stream = p.rpc.subscribe({ room: "lobby" });
    expect(
      await failure(
        (async () => {
          for await (const _ of stream) break;
        })(),
      ),
    ).toEqual([
      Code.PermissionDenied,
      'room "lobby" is private: the token of "cy" does not list it in its rooms claim',
    ]);
    expect(p.ended).toEqual([
      {
        kind: "denied",
        name: "cy",
        detail:
          'The server does not allow Subscribe for cy: room "lobby" is private: the token of "cy" does not list it in its rooms claim',
      },
    ]);
  });
});
