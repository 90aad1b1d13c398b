import * as http from "node:http";
import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { CallInfo } from "../../../src/calls/call-info.js";
import type { CallPolicy } from "../../../src/calls/call-policy.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { repeatableTuning } from "../../helpers/repeatable-log.js";
import { startTestServer } from "../../helpers/test-server.js";

// The lean unary path (src/server/connect-path/lean-unary.ts) must answer
// every Connect and gRPC-Web unary request exactly as connect-node does. Two servers with
// the same deterministic store and clock, one with the lean path and one
// without, get the same raw requests in the same order, over HTTP/1.1 and
// over h2; their answers must be identical in status, headers (all but the
// date, the connection's own and the per-server request id) and body bytes,
// and the call-policy chain must have seen the same outcome. The cases the
// lean path leaves to connect-node are here too: they must stay identical.

interface Side {
  server: ParleyServer;
  session: http2.ClientHttp2Session;
  /** method and code of every finished call, as the policy chain saw them. */
  outcomes: string[];
}

/** A test policy: a call carrying `x-refuse` is refused PERMISSION_DENIED. */
const REFUSAL = "refused by the test policy";

async function side(lean: boolean): Promise<Side> {
  const outcomes: string[] = [];
  const outcome = (call: CallInfo, error: unknown) =>
    error === undefined
      ? `${call.method.name} ok`
      : `${call.method.name} ${Code[(error as { code?: number }).code ?? 0]}`;
  const record: CallPolicy = {
    admit(call) {
      if (call.header("x-refuse") !== undefined) {
        const refusal = new ConnectError(REFUSAL, Code.PermissionDenied);
        // A link is not told of its own refusal: it records it here.
        outcomes.push(outcome(call, refusal));
        throw refusal;
      }
    },
    finished(call, error) {
      outcomes.push(outcome(call, error));
    },
  };
  const server = await startTestServer(
    {},
    {
      leanUnary: lean,
      ...repeatableTuning(),
      policies: [record],
    },
  );
  return { server, session: http2.connect(server.url), outcomes };
}

let lean: Side;
let connect: Side;
beforeAll(async () => {
  [lean, connect] = await Promise.all([side(true), side(false)]);
});
afterAll(async () => {
  for (const s of [lean, connect]) {
    s.session.close();
    await s.server.stop();
  }
});

interface RawRequest {
  method?: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

interface Answer {
  status: number;
  /** Every header but the date, the connection's own and the request id, sorted by name. */
  headers: [string, string][];
  body: string;
}

const SKIPPED_HEADERS = new Set(["date", "connection", "keep-alive", "x-request-id"]);

function answerOf(
  status: number,
  headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders,
  body: Buffer,
) {
  const kept = Object.entries(headers)
    .filter(([name]) => !name.startsWith(":") && !SKIPPED_HEADERS.has(name))
    .map(([name, value]): [string, string] => [name, String(value)])
    .sort(([a], [b]) => a.localeCompare(b));
  return { status, headers: kept, body: body.toString("base64") };
}

function overHttp1(server: ParleyServer, req: RawRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = http.request(`${server.url}${req.path}`, {
      method: req.method ?? "POST",
      headers: req.headers,
    });
    call.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve(answerOf(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))),
      );
    });
    call.on("error", reject);
    call.end(req.body);
  });
}

function overHttp2(session: http2.ClientHttp2Session, req: RawRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": req.method ?? "POST",
      ":path": req.path,
      ...req.headers,
    });
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () =>
      resolve(answerOf(Number(headers[":status"]), headers, Buffer.concat(chunks))),
    );
    stream.on("error", reject);
    stream.end(req.body);
  });
}

const SEND = "/chat.v1.ChatService/Send";
const JSON_TYPE = { "content-type": "application/json" };
const PROTO_TYPE = { "content-type": "application/proto" };

const sendJson = (room: string, text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ room, author: "ann", text, ...extra });
const sendProto = (room: string, text: string, clientMessageId = "") =>
  toBinary(
    SendRequestSchema,
    create(SendRequestSchema, { room, author: "ann", text, clientMessageId }),
  );

/** `message` in one envelope flagged `flags` (gRPC-Web's request body). */
function envelope(message: Uint8Array | string, flags = 0, length?: number): Buffer {
  const data = Buffer.from(message);
  const prefix = Buffer.alloc(5);
  prefix[0] = flags;
  prefix.writeUInt32BE(length ?? data.length, 1);
  return Buffer.concat([prefix, data]);
}
const WEB = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };
const WEB_JSON = { "content-type": "application/grpc-web+json", "x-grpc-web": "1" };

/** The cases: a name and the raw request, sent to both servers in this order. */
const CASES: [string, RawRequest][] = [
  ["a good Send (JSON)", { path: SEND, headers: JSON_TYPE, body: sendJson("good", "hello") }],
  ["a good Send (binary)", { path: SEND, headers: PROTO_TYPE, body: sendProto("good", "bin") }],
  [
    "a Send with connect-protocol-version 1 and a timeout",
    {
      path: SEND,
      headers: { ...JSON_TYPE, "connect-protocol-version": "1", "connect-timeout-ms": "60000" },
      body: sendJson("good", "versioned"),
    },
  ],
  [
    "a Send that accepts gzip answers",
    {
      path: SEND,
      headers: { ...PROTO_TYPE, "accept-encoding": "gzip" },
      body: sendProto("good", "gz"),
    },
  ],
  [
    "a client_message_id",
    { path: SEND, headers: PROTO_TYPE, body: sendProto("good", "keyed", "k1") },
  ],
  [
    "the same key again",
    { path: SEND, headers: PROTO_TYPE, body: sendProto("good", "keyed", "k1") },
  ],
  [
    "the same key with another text (ALREADY_EXISTS)",
    { path: SEND, headers: JSON_TYPE, body: sendJson("good", "other", { clientMessageId: "k1" }) },
  ],
  [
    "an invalid room (INVALID_ARGUMENT naming it)",
    { path: SEND, headers: JSON_TYPE, body: sendJson("Bad Room!", "x") },
  ],
  [
    "a text over the limit",
    { path: SEND, headers: JSON_TYPE, body: sendJson("good", "x".repeat(501)) },
  ],
  ["an empty binary body", { path: SEND, headers: PROTO_TYPE, body: new Uint8Array() }],
  ["bytes that do not decode", { path: SEND, headers: PROTO_TYPE, body: "garbage" }],
  ["JSON that does not parse", { path: SEND, headers: JSON_TYPE, body: "{" }],
  [
    "JSON with a field of the wrong type",
    { path: SEND, headers: JSON_TYPE, body: JSON.stringify({ room: 5 }) },
  ],
  [
    "JSON with an unknown field",
    { path: SEND, headers: JSON_TYPE, body: sendJson("good", "unknown", { colour: "red" }) },
  ],
  [
    "a body over the read limit",
    { path: SEND, headers: JSON_TYPE, body: sendJson("good", "x".repeat(70_000)) },
  ],
  [
    "the store failing (INTERNAL)",
    { path: SEND, headers: JSON_TYPE, body: sendJson("store-fails", "x") },
  ],
  [
    "a refused call",
    { path: SEND, headers: { ...JSON_TYPE, "x-refuse": "1" }, body: sendJson("good", "no") },
  ],
  [
    "a refused call whose body does not decode (connect reads it first)",
    { path: SEND, headers: { ...PROTO_TYPE, "x-refuse": "1" }, body: "garbage" },
  ],
  [
    "History",
    {
      path: "/chat.v1.ChatService/History",
      headers: JSON_TYPE,
      body: JSON.stringify({ room: "good", limit: 10 }),
    },
  ],
  [
    "History with a bad limit",
    {
      path: "/chat.v1.ChatService/History",
      headers: JSON_TYPE,
      body: JSON.stringify({ room: "good", limit: 100000 }),
    },
  ],
  ["ListRooms", { path: "/chat.v1.ChatService/ListRooms", headers: JSON_TYPE, body: "{}" }],
  [
    "ListMembers",
    { path: "/chat.v1.ChatService/ListMembers", headers: PROTO_TYPE, body: new Uint8Array() },
  ],
  [
    "Login on a server without identity (FAILED_PRECONDITION)",
    {
      path: "/chat.v1.ChatService/Login",
      headers: JSON_TYPE,
      body: JSON.stringify({ name: "ann" }),
    },
  ],
  [
    "JoinRoom, which speaks for a caller this server does not know",
    {
      path: "/chat.v1.ChatService/JoinRoom",
      headers: JSON_TYPE,
      body: JSON.stringify({ room: "good" }),
    },
  ],
  // gRPC-Web.
  [
    "gRPC-Web: a good Send",
    { path: SEND, headers: WEB, body: envelope(sendProto("web", "hello")) },
  ],
  [
    "gRPC-Web: a good Send as application/grpc-web",
    {
      path: SEND,
      headers: { "content-type": "application/grpc-web" },
      body: envelope(sendProto("web", "bare")),
    },
  ],
  [
    "gRPC-Web: a good Send in JSON",
    { path: SEND, headers: WEB_JSON, body: envelope(sendJson("web", "json")) },
  ],
  [
    "gRPC-Web: accepting gzip answers, with a timeout",
    {
      path: SEND,
      headers: { ...WEB, "grpc-accept-encoding": "gzip", "grpc-timeout": "10S" },
      body: envelope(sendProto("web", "gz")),
    },
  ],
  [
    "gRPC-Web: an invalid room",
    { path: SEND, headers: WEB, body: envelope(sendProto("Bad Room!", "x")) },
  ],
  ["gRPC-Web: bytes that do not decode", { path: SEND, headers: WEB, body: envelope("garbage") }],
  ["gRPC-Web: JSON that does not parse", { path: SEND, headers: WEB_JSON, body: envelope("{") }],
  ["gRPC-Web: no message", { path: SEND, headers: WEB, body: new Uint8Array() }],
  [
    "gRPC-Web: two messages",
    {
      path: SEND,
      headers: WEB,
      body: Buffer.concat([envelope(sendProto("web", "a")), envelope(sendProto("web", "b"))]),
    },
  ],
  [
    "gRPC-Web: an envelope cut short",
    { path: SEND, headers: WEB, body: envelope(sendProto("web", "cut"), 0, 500) },
  ],
  [
    "gRPC-Web: a message flagged compressed",
    { path: SEND, headers: WEB, body: envelope(sendProto("web", "z"), 1) },
  ],
  [
    "gRPC-Web: a message over the read limit",
    { path: SEND, headers: WEB, body: envelope("", 0, 70_000) },
  ],
  [
    "gRPC-Web: the store failing (INTERNAL)",
    { path: SEND, headers: WEB, body: envelope(sendProto("store-fails", "x")) },
  ],
  [
    "gRPC-Web: a refused call",
    { path: SEND, headers: { ...WEB, "x-refuse": "1" }, body: envelope(sendProto("web", "no")) },
  ],
  [
    "gRPC-Web: History",
    {
      path: "/chat.v1.ChatService/History",
      headers: WEB_JSON,
      body: envelope(JSON.stringify({ room: "web", limit: 10 })),
    },
  ],
  // Left to connect-node: these must stay identical too.
  [
    "gRPC-Web text (base64)",
    {
      path: SEND,
      headers: { "content-type": "application/grpc-web-text" },
      body: envelope(sendProto("web", "text")).toString("base64"),
    },
  ],
  [
    "gRPC-Web: a gzip grpc-encoding",
    {
      path: SEND,
      headers: { ...WEB, "grpc-encoding": "gzip" },
      body: envelope(gzipSync(sendProto("web", "zipped")), 1),
    },
  ],
  [
    "gRPC-Web: a grpc-timeout that does not parse",
    {
      path: SEND,
      headers: { ...WEB, "grpc-timeout": "soon" },
      body: envelope(sendProto("web", "late")),
    },
  ],
  [
    "a content type with a charset",
    {
      path: SEND,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: sendJson("good", "charset"),
    },
  ],
  [
    "an unknown content type",
    { path: SEND, headers: { "content-type": "text/plain" }, body: "hi" },
  ],
  [
    "a gzip-compressed body",
    {
      path: SEND,
      headers: { ...JSON_TYPE, "content-encoding": "gzip" },
      body: gzipSync(sendJson("good", "zipped")),
    },
  ],
  [
    "an unsupported content encoding",
    { path: SEND, headers: { ...JSON_TYPE, "content-encoding": "zstd" }, body: "{}" },
  ],
  [
    "connect-protocol-version 2",
    {
      path: SEND,
      headers: { ...JSON_TYPE, "connect-protocol-version": "2" },
      body: sendJson("good", "v2"),
    },
  ],
  [
    "a timeout that does not parse",
    {
      path: SEND,
      headers: { ...JSON_TYPE, "connect-timeout-ms": "soon" },
      body: sendJson("good", "late"),
    },
  ],
  [
    "a GET of a unary method",
    {
      method: "GET",
      path: `${SEND}?encoding=json&message=${encodeURIComponent("{}")}`,
      headers: {},
    },
  ],
];

describe.each([
  ["HTTP/1.1", (s: Side, req: RawRequest) => overHttp1(s.server, req)],
  ["h2", (s: Side, req: RawRequest) => overHttp2(s.session, req)],
] as const)("Connect unary over %s: the lean path answers as connect-node does", (_, call) => {
  it.each(CASES)("%s", async (_name, req) => {
    const before = [lean.outcomes.length, connect.outcomes.length];
    const answers = [await call(lean, req), await call(connect, req)];
    expect(answers[0]).toEqual(answers[1]);
    // The chain's outcome is recorded as the response ends.
    for (let i = 0; i < 50 && lean.outcomes.length !== connect.outcomes.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(lean.outcomes.slice(before[0])).toEqual(connect.outcomes.slice(before[1]));
  });
});

it("the cases reach every outcome they name", () => {
  // Both servers saw the same outcomes (above); these are the ones the cases exist for.
  const seen = new Set(lean.outcomes);
  for (const outcome of [
    "Send ok",
    "Send InvalidArgument",
    "Send AlreadyExists",
    "Send ResourceExhausted",
    "Send Internal",
    "Send PermissionDenied",
    "History ok",
    "ListRooms ok",
    "Login FailedPrecondition",
    "Send Unimplemented",
  ]) {
    expect(seen, outcome).toContain(outcome);
  }
});
