import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  ChatService,
  EchoRequestSchema,
  SendRequestSchema,
  SubscribeRequestSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import type { CallPolicy } from "../../../src/calls/call-policy.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import {
  createWebSocketTransport,
  type WebSocketTransport,
} from "../../../src/client/ws-transport.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { frame, type RawAnswer, type RawRequest, rawCall } from "../../helpers/raw-grpc.js";
import { repeatableTuning } from "../../helpers/repeatable-log.js";
import { startTestServer } from "../../helpers/test-server.js";
import { callOverWs, outcomeOfGrpc, type WsRequest, wsOf } from "../../helpers/ws-differential.js";

// The direct gRPC path (src/server/grpc-direct) must answer every request
// exactly as connect-node does. Two servers with the same deterministic
// store and clock, one with the direct path and one without, get the same
// raw HTTP/2 requests in the same order; their answers must be identical in
// :status, content-type, grpc-encoding, x-content-type-options, grpc-status,
// grpc-message, grpc-status-details-bin and body, and the call-policy chain must have
// seen the same outcome.

interface Side {
  server: ParleyServer;
  session: http2.ClientHttp2Session;
  /** The WebSocket transport's one socket to this server. */
  ws: WebSocketTransport;
  /** path and code of every finished call, as the policy chain saw them. */
  outcomes: string[];
}

async function side(direct: boolean): Promise<Side> {
  const outcomes: string[] = [];
  const record: CallPolicy = {
    finished(call, error) {
      outcomes.push(
        error === undefined
          ? `${call.method.name} ok`
          : `${call.method.name} ${(error as { code?: number }).code}`,
      );
    },
  };
  const server = await startTestServer(
    {},
    {
      directGrpc: direct,
      ...repeatableTuning(),
      policies: [record],
    },
  );
  const ws = createWebSocketTransport({
    baseUrl: server.url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  return { server, session: http2.connect(server.url), ws, outcomes };
}

let fast: Side;
let connect: Side;
/** A third server that gets every case over the WebSocket transport instead. */
let overWs: Side;
beforeAll(async () => {
  [fast, connect, overWs] = await Promise.all([side(true), side(false), side(true)]);
});
afterAll(async () => {
  for (const s of [fast, connect, overWs]) {
    s.session.close();
    s.ws.close();
    await s.server.stop();
  }
});

const SEND = "/chat.v1.ChatService/Send";
const SUBSCRIBE = "/chat.v1.ChatService/Subscribe";
const ECHO = "/chat.v1.ChatService/Echo";

const send = (room: string, text: string, extra: Partial<{ clientMessageId: string }> = {}) =>
  frame(
    toBinary(SendRequestSchema, create(SendRequestSchema, { room, author: "ann", text, ...extra })),
  );
const subscribe = (room: string, sinceSeq?: bigint) =>
  frame(toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { room, sinceSeq })));
const echo = (...texts: string[]) =>
  Buffer.concat(
    texts.map((text) => frame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { text })))),
  );
/** A SendRequest whose room field (1) holds bytes that are not UTF-8. */
const badUtf8 = frame(Buffer.from([0x0a, 0x02, 0xc3, 0x28]));
/** A SendRequest with an unknown field 99 (varint) before the known ones. */
const unknownField = frame(
  Buffer.concat([
    Buffer.from([0x98, 0x06, 0x07]),
    toBinary(
      SendRequestSchema,
      create(SendRequestSchema, { room: "unknown", author: "a", text: "t" }),
    ),
  ]),
);
/**
 * Known fields under another wire type: protobuf-es reads a varint-tagged
 * text (field 3) as a string anyway ("hi"), and fails on a 32-bit one whose
 * bytes run past the end. The fast readers refuse both and hand them over.
 */
const textAsVarint = frame(
  Buffer.concat([
    toBinary(SendRequestSchema, create(SendRequestSchema, { room: "mistyped", author: "a" })),
    Buffer.from([0x18, 0x02, 0x68, 0x69]),
  ]),
);
const echoTextAsBit32 = frame(Buffer.from([0x0d, 0x05, 0x00, 0x00, 0x00]));
/** A SendRequest of exactly `size` bytes (a long text), for the WebSocket's oversize case. */
function sendOfSize(size: number): Uint8Array {
  const bytes = (text: number) =>
    toBinary(
      SendRequestSchema,
      create(SendRequestSchema, { room: "big", author: "ann", text: "x".repeat(text) }),
    );
  const out = bytes(size - (bytes(size).length - size));
  if (out.length !== size) throw new Error(`a SendRequest of ${out.length} bytes, not ${size}`);
  return out;
}
const oversize = (() => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(70_000, 1);
  return prefix;
})();

/**
 * How a case runs over the WebSocket (the third server, the generated client
 * on the WebSocket transport): unset, the raw request's messages and
 * deadline (wsOf); a WsRequest, that call; a string, why the case has no
 * WebSocket form (it is about HTTP/2 or gRPC headers, framing or encodings
 * the WebSocket protocol does not have) and changes nothing on the server.
 */
type WsColumn = WsRequest | string | undefined;

/** The differential cases: a name and the raw request, sent to both servers, and the WebSocket column. */
const CASES: [string, RawRequest, WsColumn?][] = [
  ["a good Send", { path: SEND, body: send("good", "hello") }],
  [
    "a good Send as application/grpc+proto",
    {
      path: SEND,
      body: send("good", "again"),
      headers: { "content-type": "application/grpc+proto" },
    },
  ],
  [
    "a Send that accepts gzip answers (grpc-encoding negotiated)",
    { path: SEND, body: send("good", "gz"), headers: { "grpc-accept-encoding": "gzip" } },
  ],
  [
    "a repeated client_message_id",
    { path: SEND, body: send("good", "again", { clientMessageId: "k1" }) },
  ],
  ["the same key again", { path: SEND, body: send("good", "again", { clientMessageId: "k1" }) }],
  [
    "the same key with another text (ALREADY_EXISTS)",
    { path: SEND, body: send("good", "not again", { clientMessageId: "k1" }) },
  ],
  ["an invalid room (INVALID_ARGUMENT naming it)", { path: SEND, body: send("Bad Room!", "x") }],
  [
    "a bad grpc-timeout",
    { path: SEND, body: send("t", "x"), headers: { "grpc-timeout": "soon" } },
    "the deadline travels as OPEN's timeoutMs, a JSON number checked by websocket-protocol.test.ts",
  ],
  [
    "a grpc-timeout beyond what a timer can wait",
    { path: SEND, body: send("t", "x"), headers: { "grpc-timeout": "99999999H" } },
    "the deadline travels as OPEN's timeoutMs, a JSON number checked by websocket-protocol.test.ts",
  ],
  [
    "a good grpc-timeout",
    { path: SEND, body: send("timeout-ok", "x"), headers: { "grpc-timeout": "10S" } },
  ],
  [
    "a Subscribe whose deadline passes",
    { path: SUBSCRIBE, body: subscribe("good"), headers: { "grpc-timeout": "200m" } },
  ],
  [
    "a Subscribe resuming from seq 1, then its deadline",
    { path: SUBSCRIBE, body: subscribe("good", 1n), headers: { "grpc-timeout": "200m" } },
  ],
  [
    "a Subscribe beyond the room's last seq (OUT_OF_RANGE with a ResumeError detail)",
    { path: SUBSCRIBE, body: subscribe("good", 99n) },
  ],
  [
    "an oversize message",
    { path: SEND, body: oversize },
    { method: "Send", messages: [sendOfSize(70_000)] },
  ],
  ["invalid UTF-8", { path: SEND, body: badUtf8 }],
  ["an unknown field", { path: SEND, body: unknownField }],
  [
    "two messages on a unary call",
    { path: SEND, body: Buffer.concat([send("two", "a"), send("two", "b")]) },
  ],
  ["no message on a unary call", { path: SEND, body: Buffer.alloc(0) }],
  [
    "a truncated message",
    { path: SEND, body: send("cut", "hello").subarray(0, 9) },
    "a gRPC envelope cut short has no WebSocket form: each frame is whole (a cut protobuf message is websocket-protocol.test.ts's)",
  ],
  [
    "a message flagged compressed",
    { path: SEND, body: frame(Buffer.from([0x0a, 0x01, 0x61]), 1) },
    "WebSocket frames have no compressed flag",
  ],
  [
    "a store failure (INTERNAL, its text kept back)",
    { path: SEND, body: send("store-fails", "x") },
  ],
  [
    "a text tagged as a varint (read as a string, as protobuf-es does)",
    { path: SEND, body: textAsVarint },
  ],
  [
    "an Echo text tagged as 32-bit",
    { path: ECHO, body: Buffer.concat([echo("ok"), echoTextAsBit32]) },
  ],
  ["Echo, three messages in one write", { path: ECHO, body: echo("a", "bé", "🙂") }],
  ["Echo with invalid UTF-8", { path: ECHO, body: Buffer.concat([echo("ok"), badUtf8]) }],
  [
    "Echo ending inside a message",
    { path: ECHO, body: echo("ok", "cut").subarray(0, 12) },
    "a gRPC envelope cut short has no WebSocket form: each frame is whole (a cut protobuf message is websocket-protocol.test.ts's)",
  ],
  [
    "a content type with a charset (refused: 415)",
    {
      path: SEND,
      body: send("ct", "x"),
      headers: { "content-type": "application/grpc+proto; charset=utf-8" },
    },
    "the WebSocket protocol has one content type",
  ],
  [
    "a JSON content type",
    {
      path: SEND,
      body: frame(Buffer.from(JSON.stringify({ room: "json", author: "a", text: "t" }))),
      headers: { "content-type": "application/grpc+json" },
    },
    {
      method: "Send",
      messages: [
        toBinary(
          SendRequestSchema,
          create(SendRequestSchema, { room: "json", author: "a", text: "t" }),
        ),
      ],
    },
  ],
  [
    "an upper-case content type",
    { path: SEND, body: send("upper", "x"), headers: { "content-type": "application/GRPC" } },
  ],
  [
    "grpc-encoding identity",
    { path: SEND, body: send("identity", "x"), headers: { "grpc-encoding": "identity" } },
  ],
  [
    "an unknown grpc-encoding",
    { path: SEND, body: send("enc", "x"), headers: { "grpc-encoding": "snappy" } },
    "WebSocket frames are never compressed",
  ],
  [
    "a GET",
    { path: SEND, body: Buffer.alloc(0), headers: { ":method": "GET" } },
    "a WebSocket call has no HTTP method",
  ],
  ["an unknown method", { path: "/chat.v1.ChatService/Shout", body: send("x", "x") }],
];

/** The parts of an answer both paths must agree on. */
function comparable(answer: RawAnswer) {
  const { headers, trailers } = answer;
  const pick = (h: http2.IncomingHttpHeaders) => ({
    "grpc-status": h["grpc-status"],
    "grpc-message": h["grpc-message"],
    "grpc-status-details-bin": h["grpc-status-details-bin"],
  });
  return {
    status: headers[":status"],
    contentType: headers["content-type"],
    encoding: headers["grpc-encoding"],
    noSniff: headers["x-content-type-options"],
    headers: pick(headers),
    trailers: pick(trailers),
    body: answer.body.toString("hex"),
  };
}

describe("the direct gRPC path and the WebSocket transport answer exactly as connect-node", () => {
  it.each(CASES)("%s", async (_, request, wsColumn) => {
    const before = [fast.outcomes.length, connect.outcomes.length, overWs.outcomes.length] as const;
    const a = await rawCall(fast.session, request);
    const b = await rawCall(connect.session, request);
    expect(comparable(a)).toEqual(comparable(b));
    expect(fast.outcomes.slice(before[0])).toEqual(connect.outcomes.slice(before[1]));
    if (typeof wsColumn === "string") return;
    // The same responses (bytes), code, message and details, and the same outcome in the policy chain.
    const w = await callOverWs(overWs.ws, wsColumn ?? wsOf(request));
    const output = ChatService.methods.find(
      (m) => `/${ChatService.typeName}/${m.name}` === request.path,
    )?.output;
    expect(w).toEqual(outcomeOfGrpc(b, output));
    // END goes out as the call ends; the policy chain hears of it a moment later.
    const expected = connect.outcomes.slice(before[1]);
    for (let i = 0; i < 100 && overWs.outcomes.length - before[2] < expected.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The client's own deadline (the same timeoutMs) races the server's: when its CANCEL
    // gets there first the server ends the call CANCELED (1), not DEADLINE_EXCEEDED (4).
    const raced = (line: string) => (w.code === 4 ? line.replace(/ 1$/, " 4") : line);
    expect(overWs.outcomes.slice(before[2]).map(raced)).toEqual(expected);
  });

  it("agrees on the cases that matter most (so the table cannot pass by both being wrong)", async () => {
    const good = comparable(await rawCall(fast.session, { path: SEND, body: send("check", "hi") }));
    expect([good.status, good.contentType, good.noSniff, good.trailers["grpc-status"]]).toEqual([
      200,
      "application/grpc+proto",
      "nosniff",
      "0",
    ]);
    const failed = comparable(
      await rawCall(fast.session, { path: SEND, body: send("store-fails", "x") }),
    );
    expect(failed.trailers).toEqual({
      "grpc-status": "13",
      "grpc-message": "internal error",
      "grpc-status-details-bin": undefined,
    });
  });

  it("a cancelled Subscribe ends as CANCELED on both paths, and leaves the room", async () => {
    for (const s of [fast, connect]) {
      const before = s.outcomes.length;
      await rawCall(s.session, {
        path: SUBSCRIBE,
        body: subscribe("cancel"),
        cancelAfterData: true,
      });
      for (let i = 0; i < 100 && s.outcomes.length === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(s.outcomes.slice(before)).toEqual(["Subscribe 1"]);
    }
  });

  it("the fast side really took the gRPC calls (the table would be vacuous otherwise)", async () => {
    const paths: string[] = [];
    const server = await startTestServer(
      {},
      {
        policies: [
          {
            admit(call) {
              paths.push(`${call.method.name} ${call.adapter}`);
            },
          },
        ],
      },
    );
    const session = http2.connect(server.url);
    try {
      await rawCall(session, { path: SEND, body: send("taken", "x") });
      await rawCall(session, { path: ECHO, body: echo("x") });
      await rawCall(session, {
        path: SEND,
        body: send("taken", "x"),
        headers: { "content-type": "application/grpc+json" },
      });
      expect(paths).toEqual(["Send direct", "Echo direct", "Send connect"]);
    } finally {
      session.close();
      await server.stop();
    }
  });
});
