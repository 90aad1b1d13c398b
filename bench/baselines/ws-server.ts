// Baseline 2: a raw `ws` WebSocket broadcast server, the practical ceiling
// for fan-out on Node. A publisher's message (a binary SendRequest) gets the
// room's next seq and is encoded once, as the same SubscribeResponse Parley
// sends, and those bytes are written to every socket in the room; the
// publisher gets a SendResponse back. /echo answers each EchoRequest with an
// EchoResponse. Messages are kept in memory only. Prints {"listening":PORT}.
import { randomBytes, randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import {
  ChatMessageSchema,
  EchoRequestSchema,
  EchoResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
  SubscribeResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";

interface Room {
  epoch: string;
  seq: number;
  sockets: Set<WebSocket>;
}
const rooms = new Map<string, Room>();
function room(name: string): Room {
  let r = rooms.get(name);
  if (!r) {
    r = { epoch: randomBytes(9).toString("base64url"), seq: 0, sockets: new Set() };
    rooms.set(name, r);
  }
  return r;
}

const bytesOf = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

function publish(ws: WebSocket, data: RawData): void {
  const req = fromBinary(SendRequestSchema, bytesOf(data));
  const r = room(req.room);
  r.seq++;
  const message = create(ChatMessageSchema, {
    room: req.room,
    seq: BigInt(r.seq),
    id: randomUUID(),
    author: req.author,
    text: req.text,
    sentAt: timestampNow(),
    clientMessageId: req.clientMessageId,
  });
  const bytes = toBinary(
    SubscribeResponseSchema,
    create(SubscribeResponseSchema, { events: [{ event: { case: "message", value: message } }] }),
  );
  for (const socket of r.sockets) socket.send(bytes);
  ws.send(toBinary(SendResponseSchema, create(SendResponseSchema, { message })));
}

const wss = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
});
wss.on("connection", (ws, req) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  ws.on("error", () => undefined);
  if (url.pathname === "/subscribe") {
    const r = room(url.searchParams.get("room") ?? "");
    r.sockets.add(ws);
    ws.on("close", () => r.sockets.delete(ws));
  } else if (url.pathname === "/publish") {
    ws.on("message", (data) => publish(ws, data));
  } else if (url.pathname === "/echo") {
    let seq = 0n;
    ws.on("message", (data) => {
      const text = fromBinary(EchoRequestSchema, bytesOf(data)).text;
      seq++;
      ws.send(
        toBinary(
          EchoResponseSchema,
          create(EchoResponseSchema, { text, seq, receivedAt: timestampNow() }),
        ),
      );
    });
  } else {
    ws.close(1008, "unknown path");
  }
});
wss.on("listening", () => {
  const address = wss.address();
  const port = typeof address === "string" || address === null ? 0 : address.port;
  console.log(JSON.stringify({ listening: port }));
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => process.exit(0));
}
