import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  SendRequestSchema,
  SendResponseSchema,
  SubscribeRequestSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { startTestServer } from "../../helpers/test-server.js";
import {
  wsCancel as cancel,
  connectRawWs,
  wsFrame as frame,
  wsHalfClose as halfClose,
  wsMessage as message,
  wsOpen as open,
  wsEchoes,
  wsUrlOf,
} from "../../helpers/ws-raw.js";

// Issue 18 points 2 and 5 and its Bad input: docs/protocols.md#websocket,
// driven by a plain `ws` client that does not use the client library
// (test/helpers/ws-raw.ts writes the frame layout out by hand).

let server: ParleyServer;
let finished = 0;
beforeAll(async () => {
  server = await startTestServer(
    { ws: { maxCallsPerSocket: 3 } },
    {
      policies: [
        {
          finished() {
            finished++;
          },
        },
      ],
    },
  );
});
afterAll(() => server.stop());

const wsUrl = () => wsUrlOf(server.url);
const connect = (headers: Record<string, string> = {}, protocol = "parley.v1") =>
  connectRawWs(server.url, headers, protocol);

const sendRequest = (room: string, text: string) =>
  toBinary(SendRequestSchema, create(SendRequestSchema, { room, author: "ann", text }));

const echoes = wsEchoes;

async function historyCount(room: string) {
  return (await server.log.head(room)).lastSeq;
}

describe("the documented WebSocket protocol, from a plain ws client", () => {
  it("a unary Send: HEADERS, MESSAGE, END {} in that order", async () => {
    const s = await connect();
    s.ws.send(open(1, "Send"));
    s.ws.send(message(1, sendRequest("raw", "hello")));
    s.ws.send(halfClose(1));
    expect(await s.end(1)).toEqual({});
    expect(s.frames.map((f) => [f.type, f.id])).toEqual([
      [0x11, 1],
      [0x12, 1],
      [0x13, 1],
    ]);
    const response = fromBinary(SendResponseSchema, s.frames[1]?.payload as Buffer);
    expect([response.message?.seq, response.message?.text]).toEqual([1n, "hello"]);
    s.ws.close();
  });

  it("per-call errors end only that call, in connect's words, and store nothing", async () => {
    const s = await connect();
    // A message after half-close (a Subscribe stays open after it).
    const subscribe = toBinary(
      SubscribeRequestSchema,
      create(SubscribeRequestSchema, { room: "bad-input" }),
    );
    s.ws.send(open(1, "Subscribe"));
    s.ws.send(message(1, subscribe));
    s.ws.send(halfClose(1));
    s.ws.send(message(1, subscribe));
    // An oversize message (under the frame limit, over the contract's 64 KiB).
    s.ws.send(open(2, "Send"));
    s.ws.send(message(2, new Uint8Array(70_000)));
    s.ws.send(halfClose(2));
    // Truncated protobuf bytes.
    s.ws.send(open(3, "Send"));
    s.ws.send(message(3, sendRequest("bad-input", "hello").subarray(0, 9)));
    s.ws.send(halfClose(3));
    const ends = [await s.end(1), await s.end(2), await s.end(3)];
    expect(ends.map((e) => e.error?.code)).toEqual([
      "invalid_argument",
      "resource_exhausted",
      "invalid_argument",
    ]);
    expect(ends[0]?.error?.message).toBe(
      "protocol error: call 1 sent a message after its half-close",
    );
    expect(ends[1]?.error?.message).toBe(
      "message size 70000 is larger than configured readMaxBytes 65536",
    );
    expect(ends[2]?.error?.message).toBe("parse binary: premature EOF");
    // An unknown method and a malformed OPEN.
    s.ws.send(open(4, "Shout"));
    s.ws.send(frame(1, 5, "{not json"));
    expect(await s.end(4)).toEqual({
      error: {
        code: "unimplemented",
        message:
          'chat.v1.ChatService has no method "Shout"; its methods: Send, Listener, Subscribe, Echo, Chat, History, ListRooms, ListMembers, SetTyping, Login, JoinRoom, LeaveRoom, ListMyRooms, MarkRead, OpenConversation, Feed',
      },
    });
    expect(await s.end(5)).toEqual({
      error: {
        code: "invalid_argument",
        message: "open frame of call 5: the payload must be a UTF-8 JSON object",
      },
    });
    expect(await echoes(s, 6)).toBe("ok");
    expect(await historyCount("bad-input")).toBe(0);
    s.ws.close();
  });

  it("too many calls on one socket: the extra OPEN gets RESOURCE_EXHAUSTED naming the flag", async () => {
    const s = await connect();
    for (const id of [1, 2, 3]) {
      s.ws.send(open(id, "Subscribe"));
      s.ws.send(
        message(
          id,
          toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { room: `many-${id}` })),
        ),
      );
      s.ws.send(halfClose(id));
      await s.waitFor(0x11, id);
    }
    s.ws.send(open(4, "Echo"));
    expect(await s.end(4)).toEqual({
      error: {
        code: "resource_exhausted",
        message:
          "too many calls on this WebSocket (limit 3, --ws-max-calls); open another socket or end some",
      },
    });
    s.ws.send(cancel(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(await echoes(s, 5)).toBe("ok");
    s.ws.close();
  });

  it.each([
    [
      "a text frame",
      (ws: WebSocket) => ws.send("hello"),
      1003,
      "text frame: parley.v1 frames are binary",
    ],
    [
      "a truncated frame",
      (ws: WebSocket) => ws.send(Buffer.from([1, 0, 0])),
      1002,
      "frame shorter than its 5-byte header",
    ],
    [
      "an unknown frame type",
      (ws: WebSocket) => ws.send(frame(0x7f, 1)),
      1002,
      "unknown frame type 0x7f",
    ],
    [
      "a frame for a call never opened",
      (ws: WebSocket) => ws.send(message(9, new Uint8Array())),
      1002,
      "frame for call 9, which was never opened",
    ],
    [
      "a reused call id",
      (ws: WebSocket) => {
        ws.send(open(2, "Echo"));
        ws.send(open(2, "Echo"));
      },
      1002,
      "OPEN of call 2: ids must be above every id opened before (last 2)",
    ],
    [
      "a call id of 0",
      (ws: WebSocket) => ws.send(open(0, "Echo")),
      1002,
      "OPEN of call 0: ids start at 1",
    ],
    [
      "a frame over --ws-max-frame-bytes",
      (ws: WebSocket) => ws.send(Buffer.alloc(300_000)),
      1009,
      "",
    ],
  ])("%s closes that socket with a clear code; others go on", async (_, act, code, reason) => {
    const other = await connect();
    const s = await connect();
    act(s.ws);
    expect(await s.closed).toEqual({ code, reason });
    expect(await echoes(other, 1)).toBe("ok");
    other.ws.close();
  });

  it("the upgrade: a foreign Origin is refused 403, the page's own and none pass, no subprotocol is 400", async () => {
    const refused = (headers: Record<string, string>, protocol?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(wsUrl(), protocol === undefined ? ["parley.v1"] : [], { headers });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
      });
    const host = new URL(server.url).host;
    expect(await refused({ origin: "https://evil.example" })).toBe(403);
    expect(await refused({ origin: `http://${host}` })).toBe(101);
    expect(await refused({})).toBe(101);
    expect(await refused({}, "none")).toBe(400);
  });

  it("thousands of calls opened and cancelled in a loop leave nothing open, and the socket serves", async () => {
    const s = await connect();
    const before = finished;
    const subscribe = toBinary(
      SubscribeRequestSchema,
      create(SubscribeRequestSchema, { room: "rapid" }),
    );
    for (let id = 1; id <= 3000; id++) {
      s.ws.send(open(id, "Subscribe"));
      s.ws.send(message(id, subscribe));
      s.ws.send(halfClose(id));
      s.ws.send(cancel(id));
    }
    expect(await echoes(s, 3001)).toBe("ok");
    for (let i = 0; i < 200 && finished - before < 3001; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(finished - before).toBe(3001);
    s.ws.close();
  });
});

describe("graceful shutdown over the WebSocket", () => {
  it("every call ends UNAVAILABLE, then the socket closes with 1001", async () => {
    const own = await startTestServer();
    const ws = new WebSocket(`${own.url.replace("http", "ws")}/ws`, ["parley.v1"]);
    const frames: [number, number, string][] = [];
    ws.on("message", (data: Buffer) =>
      frames.push([data[0] as number, data.readUInt32BE(1), data.subarray(5).toString()]),
    );
    const closed = new Promise<[number, string]>((resolve) =>
      ws.on("close", (code, reason) => resolve([code, reason.toString()])),
    );
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(open(1, "Subscribe"));
    ws.send(
      message(1, toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { room: "bye" }))),
    );
    ws.send(halfClose(1));
    for (let i = 0; i < 200 && frames.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await own.stop();
    expect(await closed).toEqual([1001, "server is shutting down; resume from your last seq"]);
    expect(frames.at(-1)).toEqual([
      0x13,
      1,
      JSON.stringify({
        error: {
          code: "unavailable",
          message: "server is shutting down; resume from your last seq",
        },
      }),
    ]);
  });
});
