// Baseline 1: the chat server a competent user writes with @grpc/grpc-js and
// the same .proto loaded by @grpc/proto-loader. Send assigns the room's next
// seq and writes the message to every subscriber's call (grpc-js serializes
// each write); Subscribe sends `ready`, then live messages; Echo answers each
// request. Messages are kept in memory only. Prints {"listening":PORT}.
import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));
const definition = protoLoader.loadSync("chat/v1/chat.proto", {
  includeDirs: [PROTO_DIR],
  keepCase: false,
  longs: String,
  defaults: true,
  oneofs: true,
});
// biome-ignore lint/suspicious/noExplicitAny: proto-loader packages are untyped
const chat = (grpc.loadPackageDefinition(definition) as any).chat.v1;

interface SendRequest {
  room: string;
  author: string;
  text: string;
  clientMessageId: string;
}
interface Room {
  epoch: string;
  seq: number;
  calls: Set<grpc.ServerWritableStream<unknown, unknown>>;
}

const rooms = new Map<string, Room>();
function room(name: string): Room {
  let r = rooms.get(name);
  if (!r) {
    r = { epoch: randomBytes(9).toString("base64url"), seq: 0, calls: new Set() };
    rooms.set(name, r);
  }
  return r;
}

function timestamp() {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

const server = new grpc.Server();
server.addService(chat.ChatService.service, {
  send(call: grpc.ServerUnaryCall<SendRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
    const req = call.request;
    const r = room(req.room);
    r.seq++;
    const message = {
      room: req.room,
      seq: String(r.seq),
      id: randomUUID(),
      author: req.author,
      text: req.text,
      sentAt: timestamp(),
      clientMessageId: req.clientMessageId,
    };
    const response = { events: [{ message }] };
    for (const sub of r.calls) sub.write(response);
    callback(null, { message, duplicate: false });
  },
  subscribe(call: grpc.ServerWritableStream<{ room: string }, unknown>) {
    const r = room(call.request.room);
    const memberId = randomBytes(6).toString("base64url");
    const last = String(r.seq);
    call.write({
      events: [
        {
          ready: {
            room: call.request.room,
            epoch: r.epoch,
            lastSeq: last,
            firstSeq: last,
            memberId,
          },
        },
      ],
    });
    r.calls.add(call);
    const leave = () => r.calls.delete(call);
    call.on("cancelled", leave);
    call.on("close", leave);
    call.on("error", leave);
  },
  echo(call: grpc.ServerDuplexStream<{ text: string }, unknown>) {
    let seq = 0;
    call.on("data", (req: { text: string }) => {
      seq++;
      call.write({ text: req.text, seq: String(seq), receivedAt: timestamp() });
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined);
  },
});

server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ listening: port }));
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.forceShutdown();
    process.exit(0);
  });
}
