import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SendRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { frame } from "../../helpers/raw-grpc.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// A Send whose client resets the stream before ending its request was never
// sent whole: the client cannot learn the outcome, so nothing is stored. Node
// reports a reset to the server as the request's end (with the stream
// already closed), which used to make the call look complete. Seen in the
// soak: an abuser closing its session mid-call created a room.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const PATHS: {
  name: string;
  contentType: string;
  body: (message: Uint8Array) => Buffer;
  extra?: Record<string, string>;
}[] = [
  { name: "gRPC (fast path)", contentType: "application/grpc", body: (m) => frame(m) },
  {
    // A compressed request is connect's to read: the fast path takes identity only.
    name: "gRPC gzipped (connect path)",
    contentType: "application/grpc",
    body: (m) => frame(gzipSync(m), 1),
    extra: { "grpc-encoding": "gzip" },
  },
  { name: "gRPC-Web", contentType: "application/grpc-web+proto", body: (m) => frame(m) },
  { name: "Connect", contentType: "application/proto", body: (m) => Buffer.from(m) },
];

/** Write one whole Send request without ending it, then destroy the session (RST_STREAM). */
async function sendThenReset(room: string, path: (typeof PATHS)[number]): Promise<void> {
  const message = toBinary(
    SendRequestSchema,
    create(SendRequestSchema, { room, author: "ann", text: "never finished" }),
  );
  const session = http2.connect(server.url);
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": "/chat.v1.ChatService/Send",
    "content-type": path.contentType,
    te: "trailers",
    ...path.extra,
  });
  stream.on("error", () => undefined);
  stream.write(path.body(message));
  // Long enough for the server to have read the message.
  await new Promise((r) => setTimeout(r, 100));
  await new Promise<void>((resolve) => {
    session.once("close", resolve);
    session.destroy();
  });
}

for (const path of PATHS) {
  it(`${path.name}: a Send reset before its request ended stores nothing`, async () => {
    const room = `reset-${path.name.replace(/[^a-z]/gi, "").toLowerCase()}`;
    await sendThenReset(room, path);
    // Give the server time to act on whatever it read.
    await new Promise((r) => setTimeout(r, 200));
    const page = await chatClient(server.url).history({ room });
    expect(page.messages).toEqual([]);
    expect(page.lastSeq).toBe(0n);
    // A whole call on the same path is stored as usual.
    await chatClient(server.url).send({ room, author: "ann", text: "finished" });
    expect((await chatClient(server.url).history({ room })).lastSeq).toBe(1n);
  });
}
