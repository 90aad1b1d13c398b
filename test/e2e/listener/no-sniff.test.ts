import * as http from "node:http";
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { frame, rawCall } from "../../helpers/raw-grpc.js";
import { startTestServer } from "../../helpers/test-server.js";

// Issue 11 point 8: every answer the server gives carries
// X-Content-Type-Options: nosniff, so a browser never runs an RPC answer or
// an error body as script or style. Checked over HTTP/1.1 (Connect, gRPC-Web,
// SSE, health, 404) and over HTTP/2 on both gRPC paths.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

interface H1Answer {
  status: number | undefined;
  noSniff: string | string[] | undefined;
  contentType: string | undefined;
}

/** One HTTP/1.1 request; resolves on the response headers (the body, an SSE stream say, is dropped). */
function h1(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer = "",
): Promise<H1Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${path}`, { method, headers, agent: false }, (res) => {
      resolve({
        status: res.statusCode,
        noSniff: res.headers["x-content-type-options"],
        contentType: res.headers["content-type"],
      });
      res.destroy();
    });
    req.on("error", reject);
    req.end(body);
  });
}

const sendBody = (room: string) =>
  toBinary(SendRequestSchema, create(SendRequestSchema, { room, author: "ann", text: "hi" }));

describe("X-Content-Type-Options: nosniff", () => {
  it.each<[string, number, string, string, Record<string, string>, string | Buffer]>([
    [
      "a Connect unary call",
      200,
      "POST",
      "/chat.v1.ChatService/Send",
      { "content-type": "application/json" },
      JSON.stringify({ room: "ns", author: "ann", text: "hi" }),
    ],
    [
      "a Connect error (INVALID_ARGUMENT)",
      400,
      "POST",
      "/chat.v1.ChatService/Send",
      { "content-type": "application/json" },
      JSON.stringify({ room: "", author: "ann", text: "hi" }),
    ],
    [
      "a gRPC-Web call",
      200,
      "POST",
      "/chat.v1.ChatService/Send",
      { "content-type": "application/grpc-web+proto" },
      frame(sendBody("ns")),
    ],
    ["the SSE stream", 200, "GET", "/rooms/ns/events", { accept: "text/event-stream" }, ""],
    ["an SSE refusal", 400, "GET", "/rooms/NS/events", { accept: "text/event-stream" }, ""],
    ["the health check", 200, "GET", "/healthz", {}, ""],
    [
      "an unknown RPC",
      404,
      "POST",
      "/chat.v1.ChatService/Shout",
      { "content-type": "application/json" },
      "{}",
    ],
  ])("%s over HTTP/1.1 (%i)", async (_, status, method, path, headers, body) => {
    const answer = await h1(method, path, headers, body);
    expect([answer.status, answer.noSniff]).toEqual([status, "nosniff"]);
  });

  it("the SSE stream's answer is the event stream itself", async () => {
    const answer = await h1("GET", "/rooms/ns/events", { accept: "text/event-stream" });
    expect([answer.status, answer.contentType, answer.noSniff]).toEqual([
      200,
      "text/event-stream; charset=utf-8",
      "nosniff",
    ]);
  });

  it("gRPC over HTTP/2, on the direct path (proto) and the connect path (JSON)", async () => {
    const session = http2.connect(server.url);
    try {
      const direct = await rawCall(session, {
        path: "/chat.v1.ChatService/Send",
        body: frame(sendBody("ns")),
      });
      const viaConnect = await rawCall(session, {
        path: "/chat.v1.ChatService/Send",
        body: frame(Buffer.from(JSON.stringify({ room: "ns", author: "ann", text: "hi" }))),
        headers: { "content-type": "application/grpc+json" },
      });
      for (const answer of [direct, viaConnect]) {
        expect([answer.headers[":status"], answer.trailers["grpc-status"]]).toEqual([200, "0"]);
        expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      }
    } finally {
      session.close();
    }
  });
});
