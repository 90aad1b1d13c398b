import * as http2 from "node:http2";
import type * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SubscribeRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { FRAME, frame, H2_PREFACE, readFrames } from "../../helpers/h2-frames.js";
import { connectRaw } from "../../helpers/raw-socket.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// Issue 11 "What to build": a client's GOAWAY is honoured. The server lets
// its open streams finish (GOAWAY NO_ERROR) or ends them at once (any error
// code), and then closes the connection, so a client that says goodbye and
// goes quiet holds nothing until the idle timeout.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function connect(url = server.url): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  session.on("error", () => undefined);
  await new Promise((resolve) => session.once("connect", resolve));
  return session;
}

function closed(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => session.socket.once("close", () => resolve()));
}

/** A raw Subscribe; resolves once Ready has arrived. */
async function subscribe(session: http2.ClientHttp2Session, room: string) {
  const stream = session.request({
    ":method": "POST",
    ":path": "/chat.v1.ChatService/Subscribe",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  const message = toBinary(
    SubscribeRequestSchema,
    create(SubscribeRequestSchema, { room, author: "gus" }),
  );
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  stream.end(Buffer.concat([head, message]));
  let bytes = 0;
  await new Promise<void>((resolve) =>
    stream.on("data", (d: Buffer) => {
      bytes += d.length;
      resolve();
    }),
  );
  return { stream, bytes: () => bytes };
}

async function members(room: string): Promise<string[]> {
  return (await chatClient(server.url).listMembers({ room })).members.map((m) => m.author);
}

it("closes the connection of a client that sent GOAWAY(NO_ERROR) with no stream open", async () => {
  // Seen from the server's side through its per-address cap: with room for
  // one connection, a second is refused until the server has closed the first.
  // (A Node client that sent GOAWAY never reports its socket closing.)
  const capped = await startTestServer({ maxConnectionsPerAddress: 1 });
  try {
    const session = await connect(capped.url);
    const refused = await chatClient(capped.url)
      .listRooms({})
      .then(() => undefined, ConnectError.from);
    expect(refused?.rawMessage).toBe("Session closed with error code 11");
    session.goaway(http2.constants.NGHTTP2_NO_ERROR);
    let answer: unknown;
    for (let i = 0; i < 100 && answer === undefined; i++) {
      answer = await chatClient(capped.url)
        .listRooms({})
        .catch(() => new Promise((resolve) => setTimeout(() => resolve(undefined), 20)));
    }
    expect(answer).toMatchObject({ rooms: [] });
  } finally {
    await capped.stop();
  }
});

it("after GOAWAY(NO_ERROR) keeps delivering on an open stream, and closes once it ends", async () => {
  const session = await connect();
  const sub = await subscribe(session, "goaway-ok");
  session.goaway(http2.constants.NGHTTP2_NO_ERROR);
  const before = sub.bytes();
  await chatClient(server.url).send({ room: "goaway-ok", author: "ann", text: "still here" });
  await new Promise<void>((resolve) => sub.stream.once("data", () => resolve()));
  expect(sub.bytes()).toBeGreaterThan(before);
  expect(await members("goaway-ok")).toEqual(["gus"]);
  const gone = closed(session);
  sub.stream.close(http2.constants.NGHTTP2_CANCEL);
  await gone;
});

it("after GOAWAY with an error code ends the open stream at once: the member leaves and the connection closes", async () => {
  const session = await connect();
  await subscribe(session, "goaway-err");
  expect(await members("goaway-err")).toEqual(["gus"]);
  const gone = closed(session);
  session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  await gone;
  for (let i = 0; i < 100 && (await members("goaway-err")).length > 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  expect(await members("goaway-err")).toEqual([]);
});

const PING = 6;

/** Answer every PING the server sends on `socket` with its ACK, as a live client does. */
function answerPings(socket: net.Socket): () => number {
  let buffered = Buffer.alloc(0);
  let answered = 0;
  socket.on("data", (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
      const length = buffered.readUIntBE(0, 3);
      if (buffered[3] === PING && ((buffered[4] ?? 0) & 0x1) === 0 && !socket.destroyed) {
        socket.write(frame(PING, 0x1, 0, buffered.subarray(9, 9 + length)));
        answered++;
      }
      buffered = buffered.subarray(9 + length);
    }
  });
  return () => answered;
}

it("closes a connection it sent GOAWAY(FRAME_SIZE_ERROR), which Node leaves open, even when the client answers pings", async () => {
  // Issue 11 point 8. Node reports no event when nghttp2 sends a GOAWAY for
  // a protocol error, and keeps the socket. The server's ping (every
  // --heartbeat-ms) then never leaves (nghttp2 sends and reads nothing more
  // on a connection it has given up on), so a client willing to answer
  // cannot, and the next round destroys the connection.
  const pinging = await startTestServer({ heartbeatMs: 200 });
  try {
    const socket = await connectRaw(Number(new URL(pinging.url).port));
    socket.on("error", () => undefined);
    const frames = readFrames(socket);
    const answered = answerPings(socket);
    const start = Date.now();
    const gone = new Promise((resolve) => socket.once("close", resolve));
    socket.write(Buffer.concat([H2_PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0))]));
    // A DATA frame above the default SETTINGS_MAX_FRAME_SIZE (16,384).
    socket.write(frame(FRAME.DATA, 0, 1, Buffer.alloc(20_000)));
    await gone;
    expect(frames().filter((f) => f.type === FRAME.GOAWAY)).toEqual([
      { type: FRAME.GOAWAY, streamId: 0, errorCode: http2.constants.NGHTTP2_FRAME_SIZE_ERROR },
    ]);
    // Closed by the server within two ping intervals (and a margin), not left open.
    expect(Date.now() - start).toBeLessThan(2000);
    expect(answered()).toBe(0);
    expect(await chatClient(pinging.url).listRooms({})).toMatchObject({ rooms: [] });
  } finally {
    await pinging.stop();
  }
});
