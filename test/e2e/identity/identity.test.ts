import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import {
  createWebSocketTransport,
  type WebSocketTransport,
} from "../../../src/client/ws-transport.js";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { openSse } from "../../helpers/sse-client.js";
import { chatClient, startTestServer, type TransportName } from "../../helpers/test-server.js";
import {
  hsToken,
  rsaIssuer,
  secretFile,
  type TestClaims,
  unsignedToken,
} from "../../helpers/tokens.js";

// Who may speak and read, on every protocol and path: a server in jwt mode
// (an HS256 secret and a JWKS of one RSA key) refuses each kind of bad token
// and each overreach with the right code, and stores and delivers nothing.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
const OTHER_SECRET = "another secret of more than thirty-two bytes, forged";

let server: ParleyServer;
let issuer: Awaited<ReturnType<typeof rsaIssuer>>;
let stranger: Awaited<ReturnType<typeof rsaIssuer>>;
/** The WebSocket path's one socket, shared by its calls as a page's would be. */
let ws: WebSocketTransport | undefined;

function authConfig(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET), ...overrides };
}

beforeAll(async () => {
  issuer = await rsaIssuer("k1");
  // Same kid, another key: what a forger with a key of their own would send.
  stranger = await rsaIssuer("k1");
  server = await startTestServer({ auth: authConfig({ jwks: issuer.jwksFile }) });
});
afterAll(() => {
  ws?.close();
  return server.stop();
});

// grpc-h2 is the direct gRPC path; grpc-gzip is gRPC on connect's path
// (the direct path takes uncompressed requests only).
type Path = TransportName | "grpc-gzip" | "json" | "sse" | "websocket";
const PATHS: Path[] = [
  "connect-h1",
  "connect-h2",
  "grpc-h2",
  "grpc-gzip",
  "grpcweb-h1",
  "json",
  "sse",
  "websocket",
];

/** One case of the matrix: the token a caller sends, and what it asks for. */
interface Case {
  token: () => Promise<string | undefined>;
  /** The author the call names (Send's author, SSE's ?author=). */
  author?: string;
  room?: string;
  expected: Code;
}

const ann = (extra: Partial<TestClaims> = {}) => ({ sub: "ann", ...extra });
const CASES: Record<string, Case> = {
  "no token": { token: async () => undefined, expected: Code.Unauthenticated },
  expired: {
    token: () => hsToken(SECRET, ann({ expiresInS: -120 })),
    expected: Code.Unauthenticated,
  },
  forged: { token: () => hsToken(OTHER_SECRET, ann()), expected: Code.Unauthenticated },
  "alg none": { token: async () => unsignedToken(ann()), expected: Code.Unauthenticated },
  "wrong key": { token: () => stranger.sign(ann()), expected: Code.Unauthenticated },
  "missing scope": {
    // Send needs chat:write, a stream chat:read: each gets the other one only.
    token: async () => "scope-swapped",
    expected: Code.PermissionDenied,
  },
  "wrong author": {
    token: () => issuer.sign(ann()),
    author: "bob",
    expected: Code.PermissionDenied,
  },
  // Bad input before anything else, as without identity: not a question of who may.
  "malformed author": {
    token: () => issuer.sign(ann()),
    author: "x".repeat(33),
    expected: Code.InvalidArgument,
  },
  "private room without the claim": {
    token: () => issuer.sign(ann({ rooms: ["team-*"] })),
    room: "open-room",
    expected: Code.PermissionDenied,
  },
  "a good token (control)": { token: () => issuer.sign(ann()), expected: Code.Unknown },
};

function client(path: Exclude<Path, "sse">) {
  if (path === "websocket") {
    ws ??= createWebSocketTransport({
      baseUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    return createClient(ChatService, ws);
  }
  if (path === "grpc-gzip") {
    return createClient(
      ChatService,
      createGrpcTransport({ baseUrl: server.url, sendCompression: compressionGzip }),
    );
  }
  if (path === "json") {
    return createClient(
      ChatService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false }),
    );
  }
  return chatClient(server.url, path);
}

/** Make one call of a case on one path; the code it got ("ok" for none). */
async function attempt(path: Path, c: Case, room: string): Promise<string> {
  let token = await c.token();
  if (token === "scope-swapped") {
    token = await issuer.sign(ann({ scope: path === "sse" ? "chat:write" : "chat:read" }));
  }
  const author = c.author ?? "ann";
  if (path === "sse") {
    const query = new URLSearchParams({ author, ...(token === undefined ? {} : { token }) });
    const stream = await openSse(`${server.url}/rooms/${c.room ?? room}/events?${query}`);
    stream.close();
    if (stream.status === 200) return "ok";
    const body = await fetch(`${server.url}/rooms/${c.room ?? room}/events?${query}`, {
      headers: { accept: "text/event-stream" },
    }).then((r) => r.json() as Promise<{ code: string }>);
    return body.code;
  }
  const headers = token === undefined ? undefined : { authorization: `Bearer ${token}` };
  try {
    await client(path).send({ room: c.room ?? room, author, text: "hello" }, { headers });
    return "ok";
  } catch (e) {
    return codeToString(ConnectError.from(e).code);
  }
}

describe("the refusal matrix: every path, every bad token and overreach", () => {
  const seen: Record<string, Record<string, string>> = {};
  for (const [name, c] of Object.entries(CASES)) {
    it.each(PATHS)(`${name}: %s`, async (path) => {
      const room = `matrix-${path}`;
      const got = await attempt(path, c, room);
      seen[name] = { ...seen[name], [path]: got };
      expect(got).toBe(c.expected === Code.Unknown ? "ok" : codeToString(c.expected));
    });
  }

  it("stored only the control sends, and printed the matrix", async () => {
    const admin = await issuer.sign(ann());
    for (const path of PATHS.filter((p) => p !== "sse")) {
      const page = await chatClient(server.url).history(
        { room: `matrix-${path}` },
        { headers: { authorization: `Bearer ${admin}` } },
      );
      expect(page.messages.map((m) => [m.author, m.text])).toEqual([["ann", "hello"]]);
    }
    const open = await chatClient(server.url).history(
      { room: "open-room" },
      { headers: { authorization: `Bearer ${admin}` } },
    );
    expect(open.messages).toEqual([]);
    const rows = Object.entries(seen).map(
      ([name, byPath]) => `| ${name} | ${PATHS.map((p) => byPath[p] ?? "-").join(" | ")} |`,
    );
    console.log(
      [
        `| case | ${PATHS.join(" | ")} |`,
        `|---|${PATHS.map(() => "---").join("|")}|`,
        ...rows,
      ].join("\n"),
    );
  });
});

describe("the advice of a call without a token", () => {
  it("tells SSE, whose EventSource cannot set headers, to put the token in the query", async () => {
    const sse = await fetch(`${server.url}/rooms/open-room/events?since=0`);
    const body = await sse.text();
    expect([sse.status, JSON.parse(body)]).toEqual([
      401,
      {
        code: "unauthenticated",
        message:
          'Subscribe needs a token: add ?token=<token> to the URL, or send "authorization: Bearer <token>" (a guest gets one from Login, or `parley login`)',
      },
    ]);
    const unary = await chatClient(server.url)
      .history({ room: "open-room" })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect([unary?.code, unary?.rawMessage]).toEqual([
      Code.Unauthenticated,
      'History needs a token: send "authorization: Bearer <token>" (a guest gets one from Login, or `parley login`)',
    ]);
  });
});
