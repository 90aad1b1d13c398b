import * as http2 from "node:http2";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListenerRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import { type ParleyServer, startParley } from "../../../src/server/parley-server.js";
import { frame, grpcStatus, type RawAnswer, rawCall } from "../../helpers/raw-grpc.js";
import { chatClient, testConfig } from "../../helpers/test-server.js";

// Issue 11 point 8: a request message that does not decode is the client's
// fault. It used to be answered INTERNAL (HTTP 500 on Connect unary) and
// logged as a server error; on every protocol and path it is now
// INVALID_ARGUMENT (400) in connect's own words, and nothing is stored.

/** A length-delimited field whose length runs past the end: no protobuf decoder reads it. */
const UNDECODABLE = Buffer.from([0x0a, 0xff]);
const PREMATURE = "parse binary: premature EOF";

const lines: Record<string, unknown>[] = [];
let server: ParleyServer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  server = await startParley(testConfig({ logLevel: "info" }), pino({ level: "info" }, sink));
  session = http2.connect(server.url);
});
afterAll(async () => {
  session.close();
  await server.stop();
});

/** HTTP status, code and message, read wherever the protocol puts them. */
function outcome(answer: RawAnswer) {
  const http = answer.headers[":status"];
  const type = String(answer.headers["content-type"] ?? "");
  if (type.startsWith("application/grpc-web")) {
    const text = answer.body.toString("latin1");
    return {
      http,
      code: /grpc-status: ?(\d+)/.exec(text)?.[1],
      message: decodeURIComponent(/grpc-message: ?([^\r\n]*)/.exec(text)?.[1] ?? ""),
    };
  }
  if (type.startsWith("application/grpc")) {
    const s = grpcStatus(answer);
    return { http, code: s.status, message: decodeURIComponent(String(s.message ?? "")) };
  }
  // Connect: a unary error is the JSON body; a stream's is its end-of-stream message.
  const json = type === "application/json" ? answer.body : answer.body.subarray(5);
  const parsed = JSON.parse(json.toString("utf8"));
  const error = parsed.error ?? parsed;
  return { http, code: error.code, message: error.message };
}

const GRPC = { "content-type": "application/grpc" };
const INVALID = "3";

describe("an undecodable request message is INVALID_ARGUMENT on every protocol", () => {
  it.each([
    ["gRPC Send (direct path)", "Send", GRPC, frame(UNDECODABLE)],
    ["gRPC Subscribe (direct path)", "Subscribe", GRPC, frame(UNDECODABLE)],
    ["gRPC Chat (direct path, bidi)", "Chat", GRPC, frame(UNDECODABLE)],
    ["gRPC Echo (direct path, bidi)", "Echo", GRPC, frame(UNDECODABLE)],
    [
      "gRPC Send, gzip-compressed (connect path)",
      "Send",
      { ...GRPC, "grpc-encoding": "gzip" },
      frame(gzipSync(UNDECODABLE), 1),
    ],
    ["gRPC-Web Send", "Send", { "content-type": "application/grpc-web+proto" }, frame(UNDECODABLE)],
    [
      "gRPC-Web Subscribe",
      "Subscribe",
      { "content-type": "application/grpc-web+proto" },
      frame(UNDECODABLE),
    ],
    [
      "Connect Subscribe stream",
      "Subscribe",
      { "content-type": "application/connect+proto" },
      frame(UNDECODABLE),
    ],
    [
      "Connect Chat stream (bidi)",
      "Chat",
      { "content-type": "application/connect+proto" },
      frame(UNDECODABLE),
    ],
  ])("%s", async (_name, method, headers, body) => {
    const answer = await rawCall(session, {
      path: `/chat.v1.ChatService/${method}`,
      headers,
      body,
    });
    const code = String(headers["content-type"]).includes("connect") ? "invalid_argument" : INVALID;
    expect(outcome(answer)).toEqual({ http: 200, code, message: PREMATURE });
  });

  it("Connect unary Send over HTTP/1.1 and HTTP/2: 400 with the JSON error", async () => {
    const h1 = await fetch(`${server.url}/chat.v1.ChatService/Send`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: UNDECODABLE,
    });
    expect([h1.status, await h1.json()]).toEqual([
      400,
      { code: "invalid_argument", message: PREMATURE },
    ]);
    const h2 = await rawCall(session, {
      path: "/chat.v1.ChatService/Send",
      headers: { "content-type": "application/proto" },
      body: UNDECODABLE,
    });
    expect(outcome(h2)).toEqual({ http: 400, code: "invalid_argument", message: PREMATURE });
    expect(h2.headers["content-length"]).toBe(String(h2.body.length));
  });

  it("invalid UTF-8 in a string field, as the contract names it", async () => {
    const badUtf8 = Buffer.from([0x0a, 0x02, 0xc3, 0x28]);
    const answer = await rawCall(session, {
      path: "/chat.v1.ChatService/Send",
      headers: GRPC,
      body: frame(badUtf8),
    });
    expect(outcome(answer)).toEqual({
      http: 200,
      code: INVALID,
      message: "parse binary: The encoded data was not valid for encoding utf-8",
    });
  });

  it("gRPC health Check, another service on the connect path", async () => {
    const answer = await rawCall(session, {
      path: "/grpc.health.v1.Health/Check",
      headers: GRPC,
      body: frame(UNDECODABLE),
    });
    expect(outcome(answer)).toEqual({ http: 200, code: INVALID, message: PREMATURE });
  });

  it("a Listener stream's second message: the first stays stored, and the answer says so", async () => {
    const first = toBinary(
      ListenerRequestSchema,
      create(ListenerRequestSchema, { room: "undecodable-listener", author: "ann", text: "one" }),
    );
    const answer = await rawCall(session, {
      path: "/chat.v1.ChatService/Listener",
      headers: GRPC,
      body: Buffer.concat([frame(first), frame(UNDECODABLE)]),
    });
    expect(outcome(answer)).toEqual({
      http: 200,
      code: INVALID,
      message: `${PREMATURE}; the 1 earlier request was stored (first_seq 1, last_seq 1)`,
    });
    const history = await chatClient(server.url).history({ room: "undecodable-listener" });
    expect(history.messages.map((m) => m.text)).toEqual(["one"]);
  });

  it("stores nothing, logs each as a client's error (info, not error), and serves on", async () => {
    const client = chatClient(server.url, "grpc-h2");
    expect((await client.listRooms({})).rooms.map((r) => r.room)).toEqual(["undecodable-listener"]);
    const failures = lines.filter((l) => l.msg === "call failed");
    expect(failures.length).toBeGreaterThanOrEqual(13);
    expect(failures.filter((l) => l.level !== 30)).toEqual([]);
    expect(new Set(failures.map((l) => l.code))).toEqual(new Set(["invalid_argument"]));
    const sent = await client.send({ room: "after", author: "ann", text: "fine" });
    expect(sent.message?.seq).toBe(1n);
  });
});
