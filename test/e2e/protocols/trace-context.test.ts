import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../../src/client/ws-transport.js";
import { type ParleyServer, startParley } from "../../../src/server/parley-server.js";
import { capturedLogger } from "../../helpers/log-lines.js";
import { openSse } from "../../helpers/sse-client.js";
import { type TransportName, testConfig, transportFor } from "../../helpers/test-server.js";

// W3C trace context and the request id on every protocol: a valid
// traceparent comes back with the same trace id and flags and a span id of
// the server's own, the request id comes back as x-request-id, and both are
// in the call's request log line. An invalid traceparent is ignored, as the
// specification says, never refused.

type Kind = TransportName | "connect-json-h1" | "grpc-json (connect path)" | "websocket";
const KINDS: Kind[] = [
  "connect-h1",
  "connect-json-h1",
  "connect-h2",
  "grpc-h2",
  "grpc-json (connect path)",
  "grpcweb-h1",
  "grpcweb-h2",
  "websocket",
];

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

describe("trace context and request ids", () => {
  const { logger, lines } = capturedLogger();
  let server: ParleyServer;
  let ws: ReturnType<typeof createWebSocketTransport>;
  beforeAll(async () => {
    server = await startParley(
      testConfig({ logLevel: "debug", corsOrigins: ["https://app.example"] }),
      logger,
    );
    ws = createWebSocketTransport({
      baseUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
  });
  afterAll(async () => {
    ws.close();
    await server.stop();
  });

  function transportOf(kind: Kind): Transport {
    switch (kind) {
      case "connect-json-h1":
        return createConnectTransport({
          baseUrl: server.url,
          httpVersion: "1.1",
          useBinaryFormat: false,
        });
      case "grpc-json (connect path)":
        return createGrpcTransport({ baseUrl: server.url, useBinaryFormat: false });
      case "websocket":
        return ws;
      default:
        return transportFor(kind, server.url);
    }
  }

  /** The request log line of the call with this request id (it is written as the call ends). */
  async function logLine(requestId: string): Promise<Record<string, unknown> | undefined> {
    for (let i = 0; i < 50; i++) {
      const line = lines.find((l) => l.requestId === requestId);
      if (line !== undefined) return line;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  it.each(KINDS)(
    "%s: the trace comes back with a span of the server's own, and the request id; both are logged",
    async (kind) => {
      const client = createClient(ChatService, transportOf(kind));
      const trace = hex(16);
      const parent = hex(8);
      const requestId = `trace-${kind.replace(/[^a-z0-9-]/g, "_")}`;
      let header: Headers | undefined;
      const sent = await client.send(
        { room: "traced", author: "ann", text: `via ${kind}` },
        {
          headers: { traceparent: `00-${trace}-${parent}-01`, "x-request-id": requestId },
          onHeader: (h) => {
            header = h;
          },
        },
      );
      expect(sent.message?.text).toBe(`via ${kind}`);
      expect(header?.get("x-request-id")).toBe(requestId);
      const [version, backTrace, span, flags] = (header?.get("traceparent") ?? "").split("-");
      expect([version, backTrace, flags]).toEqual(["00", trace, "01"]);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      expect(span).not.toBe(parent);
      expect(await logLine(requestId)).toMatchObject({
        msg: "call",
        method: "chat.v1.ChatService/Send",
        traceId: trace,
        spanId: span,
      });
    },
  );

  it.each(KINDS)(
    "%s: a refused call names itself too (a request id made here, the same as its log line's)",
    async (kind) => {
      const client = createClient(ChatService, transportOf(kind));
      const trace = hex(16);
      const error = await client
        .send(
          { room: "Not A Room", author: "ann", text: "hi" },
          { headers: { traceparent: `00-${trace}-${hex(8)}-00` } },
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(error?.code).toBe(Code.InvalidArgument);
      const requestId = error?.metadata.get("x-request-id") ?? "";
      expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
      expect(error?.metadata.get("traceparent")).toMatch(
        new RegExp(`^00-${trace}-[0-9a-f]{16}-00$`),
      );
      expect(await logLine(requestId)).toMatchObject({
        msg: "call failed",
        code: "invalid_argument",
        traceId: trace,
      });
    },
  );

  it("SSE: the trace and the request id come back on the event stream's response", async () => {
    const trace = hex(16);
    const stream = await openSse(`${server.url}/rooms/traced-sse/events`, {
      traceparent: `00-${trace}-${hex(8)}-01`,
      "x-request-id": "trace-sse",
    });
    expect(stream.status).toBe(200);
    expect(stream.headers["x-request-id"]).toBe("trace-sse");
    const back = String(stream.headers.traceparent);
    expect(back).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
    stream.close();
    expect(await logLine("trace-sse")).toMatchObject({
      method: "chat.v1.ChatService/Subscribe",
      protocol: "sse",
      traceId: trace,
      spanId: back.split("-")[2],
    });
  });

  const invalid: [string, string][] = [
    ["uppercase hex", `00-${hex(16).toUpperCase()}-${hex(8)}-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${hex(8)}-01`],
    ["an all-zero parent id", `00-${hex(16)}-${"0".repeat(16)}-01`],
    ["version ff", `ff-${hex(16)}-${hex(8)}-01`],
    ["version 00 with a fifth field", `00-${hex(16)}-${hex(8)}-01-extra`],
    ["a short trace id", `00-${hex(15)}-${hex(8)}-01`],
    ["not a traceparent", "hello"],
  ];
  it.each(invalid)(
    "a traceparent with %s is ignored: the call succeeds untraced",
    async (_, value) => {
      const client = createClient(ChatService, transportOf("connect-h1"));
      const requestId = `untraced-${value}`.slice(0, 64);
      let header: Headers | undefined;
      await client.send(
        { room: "traced", author: "ann", text: "hi" },
        {
          headers: { traceparent: value, "x-request-id": requestId },
          onHeader: (h) => {
            header = h;
          },
        },
      );
      expect(header?.get("traceparent")).toBeNull();
      expect(header?.get("x-request-id")).toBe(requestId);
      const line = await logLine(requestId);
      expect(line).toMatchObject({ msg: "call" });
      expect(line).not.toHaveProperty("traceId");
    },
  );

  it("a later version's extra fields are ignored, and its trace is followed", async () => {
    const trace = hex(16);
    let header: Headers | undefined;
    await createClient(ChatService, transportOf("connect-h1")).send(
      { room: "traced", author: "ann", text: "hi" },
      {
        headers: { traceparent: `01-${trace}-${hex(8)}-01-what-comes-next` },
        onHeader: (h) => {
          header = h;
        },
      },
    );
    expect(header?.get("traceparent")).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
  });

  it("CORS: a page may send traceparent and X-Request-Id, and read both answers", async () => {
    const answer = (method: string, headers: Record<string, string>) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${server.url}/chat.v1.ChatService/Send`, { method, headers });
        req.on("response", (res) => {
          res.resume();
          resolve(res);
        });
        req.on("error", reject);
        req.end(
          method === "POST"
            ? JSON.stringify({ room: "traced", author: "ann", text: "hi" })
            : undefined,
        );
      });
    const preflight = await answer("OPTIONS", {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,traceparent,tracestate,x-request-id",
    });
    expect(preflight.statusCode).toBe(204);
    const allowed = String(preflight.headers["access-control-allow-headers"])
      .toLowerCase()
      .split(",");
    expect(allowed).toEqual(expect.arrayContaining(["traceparent", "tracestate", "x-request-id"]));
    const post = await answer("POST", {
      origin: "https://app.example",
      "content-type": "application/json",
    });
    expect(post.statusCode).toBe(200);
    const exposed = String(post.headers["access-control-expose-headers"]).toLowerCase().split(",");
    expect(exposed).toEqual(expect.arrayContaining(["traceparent", "x-request-id"]));
    expect(post.headers["x-request-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
  });
});
