import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { startTestServer } from "../../helpers/test-server.js";

// Issue 14 point 6: a plain-HTTP caller that got the call wrong used to get
// 415, 404 or 405 with an empty body. Each answer now says what was wrong.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const SEND = "/chat.v1.ChatService/Send";
const UNARY_TYPES =
  "application/json (JSON) or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)";
const STREAM_TYPES =
  "application/connect+json or application/connect+proto (Connect streams: enveloped messages), application/grpc (gRPC) or application/grpc-web (gRPC-Web)";
const METHODS =
  "Send, Listener, Subscribe, Echo, Chat, History, ListRooms, ListMembers, SetTyping, Login, JoinRoom, LeaveRoom, ListMyRooms, MarkRead, OpenConversation, Feed";
const SERVICES =
  "chat.v1.ChatService, grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection";

/** Status, the headers that matter here, and the body, of one HTTP/1.1 request. */
async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${server.url}${path}`, init);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    allow: res.headers.get("allow"),
    body: await res.text(),
  };
}

const json = { "content-type": "application/json" };

describe("answers to plain-HTTP mistakes say what was wrong", () => {
  it("415: no Content-Type, or one the method does not take", async () => {
    expect(await call(SEND, { method: "POST", body: "{}" })).toEqual({
      status: 415,
      type: "text/plain; charset=utf-8",
      allow: null,
      body: `${SEND} takes Content-Type ${UNARY_TYPES}; this request had Content-Type text/plain;charset=UTF-8. For JSON: curl -H 'Content-Type: application/json' -d '{…}' URL.\n`,
    });
    // fetch always sends a type with a string body; a Uint8Array goes without one.
    expect(await call(SEND, { method: "POST", body: new Uint8Array([0x7b, 0x7d]) })).toEqual({
      status: 415,
      type: "text/plain; charset=utf-8",
      allow: null,
      body: `${SEND} takes Content-Type ${UNARY_TYPES}; this request had no Content-Type. For JSON: curl -H 'Content-Type: application/json' -d '{…}' URL.\n`,
    });
    const subscribe = await call("/chat.v1.ChatService/Subscribe", {
      method: "POST",
      headers: json,
      body: '{"room":"lobby"}',
    });
    expect(subscribe).toEqual({
      status: 415,
      type: "text/plain; charset=utf-8",
      allow: null,
      body: `/chat.v1.ChatService/Subscribe takes Content-Type ${STREAM_TYPES}; this request had Content-Type application/json. To follow a room over plain HTTP: GET /rooms/ROOM/events (Server-Sent Events).\n`,
    });
  });

  it("405: a GET (or PUT) on a method called with POST, with Allow", async () => {
    expect(await call(SEND)).toEqual({
      status: 405,
      type: "text/plain; charset=utf-8",
      allow: "POST",
      body: `${SEND} is called with POST; this request was GET.\n`,
    });
    expect(await call("/chat.v1.ChatService/History", { method: "PUT", body: "{}" })).toEqual({
      status: 405,
      type: "text/plain; charset=utf-8",
      allow: "POST",
      body: "/chat.v1.ChatService/History is called with POST; this request was PUT.\n",
    });
  });

  it("404: an unknown method names the service's methods; an unknown service names the services", async () => {
    expect(await call("/chat.v1.ChatService/Shout", { method: "POST", body: "x" })).toEqual({
      status: 404,
      type: "text/plain; charset=utf-8",
      allow: null,
      body: `chat.v1.ChatService has no method "Shout"; its methods: ${METHODS}\n`,
    });
    expect(
      await call("/chat.v2.ChatService/Send", { method: "POST", headers: json, body: "{}" }),
    ).toEqual({
      status: 404,
      type: "application/json",
      allow: null,
      body: JSON.stringify({
        code: "unimplemented",
        message: `no service "chat.v2.ChatService" here; the services: ${SERVICES}`,
      }),
    });
    // Paths that are not RPCs stay the web app's: 404 with no words.
    expect((await call("/assets/nope.js")).status).toBe(404);
  });

  it("a Connect client reads the unknown method's words as UNIMPLEMENTED", async () => {
    // A client built from a newer contract, calling a method this server lacks.
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const shout = { ...ChatService.method.send, name: "Shout", localName: "shout" };
    const newer = { ...ChatService, methods: [shout], method: { shout } };
    const client = createClient(newer as never, transport) as {
      shout(request: object): Promise<unknown>;
    };
    const failure = await client.shout({ room: "lobby" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(failure?.code).toBe(Code.Unimplemented);
    expect(failure?.rawMessage).toBe(
      `chat.v1.ChatService has no method "Shout"; its methods: ${METHODS}`,
    );
  });

  it("505: a bidi stream over HTTP/1.1 says it needs HTTP/2", async () => {
    expect(
      await call("/chat.v1.ChatService/Chat", {
        method: "POST",
        headers: { "content-type": "application/connect+json" },
        body: "",
      }),
    ).toEqual({
      status: 505,
      type: "text/plain; charset=utf-8",
      allow: null,
      body: "/chat.v1.ChatService/Chat is a bidirectional stream and needs HTTP/2: a gRPC or Connect client over cleartext HTTP/2 (h2c) or TLS, such as buf curl --protocol grpc.\n",
    });
  });

  it("over cleartext HTTP/2 the words are the same", async () => {
    const session = http2.connect(server.url);
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": SEND });
        let status = 0;
        let body = "";
        stream.on("response", (headers) => {
          status = Number(headers[":status"]);
        });
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          body += chunk;
        });
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
        stream.end("{}");
      });
      expect(answer).toEqual({
        status: 415,
        body: `${SEND} takes Content-Type ${UNARY_TYPES}; this request had no Content-Type. For JSON: curl -H 'Content-Type: application/json' -d '{…}' URL.\n`,
      });
    } finally {
      session.close();
    }
  });
});
