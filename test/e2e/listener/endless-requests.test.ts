import * as http2 from "node:http2";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendRequestSchema, SubscribeRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// Issue 11 point 3: a call whose client keeps sending and never half-closes
// used to be buffered whole (1 GiB sent, 1.1 GiB RSS). Each is now answered
// while the client is still sending, having read at most the 64 KiB message
// limit (plus what flow control lets through): the server never holds more.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

interface Ended {
  status: string | undefined;
  message: string | undefined;
  /** Bytes the client had written when the answer came. */
  written: number;
}

/**
 * POST to `path` and write `chunk` every 5 ms, never ending the request,
 * until the server answers (a status in headers or trailers) or 8 MiB are written.
 */
function sendForever(
  path: string,
  contentType: string,
  first: Buffer,
  chunk: Buffer,
): Promise<Ended> {
  const session = http2.connect(server.url);
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": contentType,
    te: "trailers",
  });
  stream.on("error", () => undefined);
  let written = 0;
  let done = false;
  return new Promise<Ended>((resolve) => {
    const end = (status: string | undefined, message: string | undefined) => {
      if (done) return;
      done = true;
      resolve({ status, message, written });
      session.destroy();
    };
    const read = (h: http2.IncomingHttpHeaders) => {
      const http = Number(h[":status"]);
      const status = h["grpc-status"] ?? (http === 200 ? undefined : String(http));
      if (typeof status === "string")
        end(status, decodeURIComponent(String(h["grpc-message"] ?? "")));
    };
    stream.on("response", read);
    stream.on("trailers", read);
    // gRPC-Web carries its status in a trailer frame in the body.
    let body = "";
    stream.on("data", (d: Buffer) => {
      body += d.toString("latin1");
      const status = /grpc-status: ?(\d+)/.exec(body)?.[1];
      const message = /grpc-message: ?([^\r\n]*)/.exec(body)?.[1];
      if (status !== undefined) end(status, decodeURIComponent(message ?? ""));
    });
    stream.on("close", () => end("closed", undefined));
    stream.write(first);
    written += first.length;
    const tick = setInterval(() => {
      if (done || written >= 8 << 20) {
        clearInterval(tick);
        end(done ? undefined : "still reading after 8 MiB", undefined);
        return;
      }
      stream.write(chunk);
      written += chunk.length;
    }, 5);
  });
}

function envelope(message: Uint8Array, announced = message.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(announced, 1);
  return Buffer.concat([head, message]);
}

const sendBytes = toBinary(
  SendRequestSchema,
  create(SendRequestSchema, { room: "endless", author: "a", text: "t" }),
);
const subscribeBytes = toBinary(
  SubscribeRequestSchema,
  create(SubscribeRequestSchema, { room: "endless" }),
);
const KiB16 = Buffer.alloc(16 * 1024, 0x61);

describe("a call that never half-closes is answered while the client still sends", () => {
  it.each([
    ["gRPC Send (direct path)", "/chat.v1.ChatService/Send", "application/grpc"],
    ["gRPC Subscribe (direct path)", "/chat.v1.ChatService/Subscribe", "application/grpc"],
    ["gRPC-Web Send (connect path)", "/chat.v1.ChatService/Send", "application/grpc-web+proto"],
    ["gRPC JSON Send (connect path)", "/chat.v1.ChatService/Send", "application/grpc+json"],
  ])("%s announcing a 1 GiB message: RESOURCE_EXHAUSTED", async (_name, path, type) => {
    const ended = await sendForever(path, type, envelope(Buffer.alloc(0), 1 << 30), KiB16);
    expect([ended.status, ended.message]).toEqual([
      "8",
      "message size 1073741824 is larger than configured readMaxBytes 65536",
    ]);
    expect(ended.written).toBeLessThan(1 << 20);
  });

  it.each([
    [
      "gRPC Send (direct path)",
      "/chat.v1.ChatService/Send",
      "application/grpc",
      sendBytes,
      "unary",
    ],
    [
      "gRPC Subscribe (direct path)",
      "/chat.v1.ChatService/Subscribe",
      "application/grpc",
      subscribeBytes,
      "server_streaming",
    ],
    [
      "gRPC-Web Send (connect path)",
      "/chat.v1.ChatService/Send",
      "application/grpc-web+proto",
      sendBytes,
      "unary",
    ],
  ])(
    "%s sending one whole message after another: refused at the second",
    async (_name, path, type, message, kind) => {
      const framed = envelope(message);
      const ended = await sendForever(path, type, framed, framed);
      expect([ended.status, ended.message]).toEqual([
        "12",
        `protocol error: received extra input message for ${kind} method`,
      ]);
      expect(ended.written).toBeLessThan(1 << 20);
    },
  );

  it("Connect unary Send over HTTP/2 with a body that never ends: RESOURCE_EXHAUSTED", async () => {
    const json = Buffer.from(
      toJsonString(
        SendRequestSchema,
        create(SendRequestSchema, { room: "endless", author: "a", text: "t" }),
      ),
    );
    const ended = await sendForever(
      "/chat.v1.ChatService/Send",
      "application/json",
      json.subarray(0, json.length - 1),
      Buffer.from(" ".repeat(16 * 1024)),
    );
    expect(ended.status).toBe("429");
    expect(ended.written).toBeLessThan(1 << 20);
  });

  it("stored nothing, and serves a normal client afterwards", async () => {
    const client = chatClient(server.url);
    expect((await client.history({ room: "endless" })).messages).toEqual([]);
    const sent = await client.send({ room: "endless", author: "ann", text: "after" });
    expect(sent.message?.seq).toBe(1n);
  });
});
