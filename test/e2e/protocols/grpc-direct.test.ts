import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EchoRequestSchema,
  EchoResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
  SubscribeRequestSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// gRPC's Send, Subscribe and Echo are answered straight on the HTTP/2 stream
// (src/server/grpc-direct/). Connect clients cover the usual calls over every
// protocol, and test/e2e/protocols/grpc-differential.test.ts holds every answer to
// connect-node's; these tests speak raw gRPC frames to show what a refusal
// leaves behind (nothing stored, the member gone).

let server: ParleyServer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  server = await startTestServer();
  session = http2.connect(server.url);
});
afterAll(async () => {
  session.close();
  await server.stop();
});

interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function frame(message: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flags;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** One raw gRPC call; resolves when the stream closes. */
function call(
  method: string,
  body: Buffer,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": `/chat.v1.ChatService/${method}`,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      responseHeaders = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("close", () =>
      resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks) }),
    );
    stream.end(body);
  });
}

/** grpc-status and grpc-message, from the trailers or a trailers-only response's headers. */
function status(answer: RawAnswer): { code: string; message: string } {
  const source = answer.trailers["grpc-status"] !== undefined ? answer.trailers : answer.headers;
  return {
    code: String(source["grpc-status"]),
    message: decodeURIComponent(String(source["grpc-message"] ?? "")),
  };
}

const sendBytes = (room: string, text: string) =>
  toBinary(SendRequestSchema, create(SendRequestSchema, { room, author: "ann", text }));

async function history(room: string): Promise<string[]> {
  const page = await chatClient(server.url).history({ room });
  return page.messages.map((m) => m.text);
}

describe("the direct gRPC path", () => {
  it("answers Send with the stored message, status 0 in trailers", async () => {
    const answer = await call("Send", frame(sendBytes("direct-ok", "hi")), {
      "content-type": "application/grpc+proto",
    });
    expect(answer.headers["content-type"]).toBe("application/grpc+proto");
    expect(status(answer)).toEqual({ code: "0", message: "" });
    expect(answer.body.readUInt32BE(1)).toBe(answer.body.length - 5);
    const res = fromBinary(SendResponseSchema, answer.body.subarray(5));
    expect([res.message?.seq, res.message?.text, res.duplicate]).toEqual([1n, "hi", false]);
  });

  it("answers 500 Echo requests sent in one write in order, each with its own seq", async () => {
    const texts = Array.from({ length: 500 }, (_, i) => `m${i}`);
    const body = Buffer.concat(
      texts.map((text) => frame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { text })))),
    );
    const answer = await call("Echo", body);
    expect(status(answer)).toEqual({ code: "0", message: "" });
    const replies: [string, bigint][] = [];
    for (let at = 0; at < answer.body.length; ) {
      const length = answer.body.readUInt32BE(at + 1);
      const reply = fromBinary(EchoResponseSchema, answer.body.subarray(at + 5, at + 5 + length));
      replies.push([reply.text, reply.seq]);
      at += 5 + length;
    }
    expect(replies).toEqual(texts.map((text, i) => [text, BigInt(i + 1)]));
  });

  it("refuses two request messages on a unary call and stores nothing", async () => {
    const two = Buffer.concat([
      frame(sendBytes("direct-two", "a")),
      frame(sendBytes("direct-two", "b")),
    ]);
    const answer = await call("Send", two);
    expect(status(answer)).toEqual({
      code: "12",
      message: "protocol error: received extra input message for unary method",
    });
    expect(await history("direct-two")).toEqual([]);
  });

  it("refuses a truncated request message", async () => {
    const whole = frame(sendBytes("direct-cut", "hello"));
    const answer = await call("Send", whole.subarray(0, whole.length - 2));
    expect(status(answer)).toEqual({
      code: "3",
      message: "protocol error: incomplete envelope",
    });
    expect(await history("direct-cut")).toEqual([]);
  });

  it("refuses a message flagged compressed on an identity-encoded call", async () => {
    const answer = await call("Send", frame(sendBytes("direct-flag", "x"), 1));
    expect(status(answer).code).toBe("13");
    expect(status(answer).message).toBe(
      "received compressed envelope, but do not know how to decompress",
    );
    expect(await history("direct-flag")).toEqual([]);
  });

  it("leaves gzip-encoded calls to connect, which decompresses them", async () => {
    const answer = await call("Send", frame(gzipSync(sendBytes("direct-gzip", "zipped")), 1), {
      "grpc-encoding": "gzip",
    });
    expect(status(answer).code).toBe("0");
    expect(await history("direct-gzip")).toEqual(["zipped"]);
  });

  it("refuses a malformed grpc-timeout, naming the header", async () => {
    const answer = await call("Send", frame(sendBytes("direct-timeout", "x")), {
      "grpc-timeout": "soon",
    });
    expect(status(answer)).toEqual({
      code: "3",
      message: "protocol error: invalid grpc timeout value: soon",
    });
  });

  it("ends a Subscribe at its deadline with DEADLINE_EXCEEDED, after Ready", async () => {
    const request = toBinary(
      SubscribeRequestSchema,
      create(SubscribeRequestSchema, { room: "direct-deadline" }),
    );
    const started = Date.now();
    const answer = await call("Subscribe", frame(request), { "grpc-timeout": "300m" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(status(answer)).toEqual({
      code: "4",
      message: "the operation timed out",
    });
    expect(answer.body.length).toBeGreaterThan(5);
  });

  it("ends a Send whose request never ends at its deadline with DEADLINE_EXCEEDED, storing nothing", async () => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/chat.v1.ChatService/Send",
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": "200m",
    });
    // The message, but never the end of the request: the call waits for it until its deadline.
    stream.write(frame(sendBytes("direct-unended", "never sent")));
    const started = Date.now();
    const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.on("trailers", resolve);
      stream.on("error", reject);
      stream.resume();
    });
    stream.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect({ code: trailers["grpc-status"], message: trailers["grpc-message"] }).toEqual({
      code: "4",
      message: "the operation timed out",
    });
    expect(await history("direct-unended")).toEqual([]);
  });

  it("refuses a deadline longer than a timer can wait, which would otherwise end the call at once", async () => {
    const request = toBinary(
      SubscribeRequestSchema,
      create(SubscribeRequestSchema, { room: "direct-far" }),
    );
    const answer = await call("Subscribe", frame(request), { "grpc-timeout": "99999999H" });
    expect(status(answer)).toEqual({
      code: "3",
      message: "timeout 359999996400000ms must be <= 2147483647",
    });
  });

  it("a cancelled Subscribe leaves the room", async () => {
    const client = chatClient(server.url);
    const request = toBinary(
      SubscribeRequestSchema,
      create(SubscribeRequestSchema, { room: "direct-cancel", author: "zoe" }),
    );
    const stream = session.request({
      ":method": "POST",
      ":path": "/chat.v1.ChatService/Subscribe",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.end(frame(request));
    await new Promise((resolve) => stream.once("data", resolve));
    const during = await client.listMembers({ room: "direct-cancel" });
    expect(during.members.map((m) => m.author)).toEqual(["zoe"]);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    let members = during.members;
    for (let i = 0; i < 50 && members.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      members = (await client.listMembers({ room: "direct-cancel" })).members;
    }
    expect(members).toEqual([]);
  });
});
