import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResumeErrorSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { startTestServer } from "../../helpers/test-server.js";

// Interop with an independent gRPC implementation: @grpc/grpc-js, with the
// schema loaded at run time from the .proto by @grpc/proto-loader (protobufjs),
// so neither the codec nor the protocol code is shared with the server.

// The .proto imports google/protobuf/{timestamp,field_mask}.proto: protobufjs
// bundles those well-known types, so the only include dir needed is ours.
const PROTO_DIR = fileURLToPath(new URL("../../../proto", import.meta.url));
const definition = protoLoader.loadSync("chat/v1/chat.proto", {
  includeDirs: [PROTO_DIR],
  keepCase: false,
  longs: String,
  defaults: true,
  oneofs: true,
});

// The objects proto-loader produces with those options: camelCase fields,
// 64-bit integers as decimal strings, absent message fields as null, and a
// virtual property naming the set member of each oneof.
interface Timestamp {
  seconds: string;
  nanos: number;
}
interface ChatMessage {
  room: string;
  seq: string;
  id: string;
  author: string;
  text: string;
  sentAt: Timestamp | null;
  clientMessageId: string;
}
interface SendRequest {
  room: string;
  author: string;
  text: string;
  clientMessageId?: string;
}
interface SendResponse {
  message: ChatMessage | null;
  duplicate: boolean;
}
interface HistoryRequest {
  room: string;
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
  readMask?: { paths: string[] };
}
interface HistoryResponse {
  messages: ChatMessage[];
  lastSeq: string;
  epoch: string;
  firstSeq: string;
  hasMore: boolean;
}
interface ListenerRequest {
  room?: string;
  author?: string;
  text: string;
  clientMessageId?: string;
}
interface ListenerResponse {
  accepted: string;
  firstSeq: string;
  lastSeq: string;
  rooms: { room: string; accepted: string; firstSeq: string; lastSeq: string }[];
}
interface Ready {
  room: string;
  epoch: string;
  lastSeq: string;
  firstSeq: string;
  memberId: string;
}
interface RoomEvent {
  event: "message" | "join" | "leave" | "heartbeat" | "ready";
  message?: ChatMessage;
  ready?: Ready;
}
interface EventsResponse {
  events: RoomEvent[];
}
interface SubscribeRequest {
  room: string;
  sinceSeq?: number;
  epoch?: string;
  author?: string;
}
interface EchoRequest {
  text: string;
}
interface EchoResponse {
  text: string;
  seq: string;
  receivedAt: Timestamp | null;
}
type ChatRequest =
  | { join: { room: string; author: string; sinceSeq?: number; epoch?: string } }
  | { post: { text: string; clientMessageId?: string } };

/** The dynamic client grpc-js builds from the loaded service definition. */
interface ChatServiceClient extends grpc.Client {
  send(req: SendRequest, cb: grpc.requestCallback<SendResponse>): grpc.ClientUnaryCall;
  history(req: HistoryRequest, cb: grpc.requestCallback<HistoryResponse>): grpc.ClientUnaryCall;
  listener(cb: grpc.requestCallback<ListenerResponse>): grpc.ClientWritableStream<ListenerRequest>;
  subscribe(req: SubscribeRequest): grpc.ClientReadableStream<EventsResponse>;
  echo(): grpc.ClientDuplexStream<EchoRequest, EchoResponse>;
  chat(): grpc.ClientDuplexStream<ChatRequest, EventsResponse>;
}

const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  chat: { v1: { ChatService: grpc.ServiceClientConstructor } };
};
const ChatService = loaded.chat.v1.ChatService;

/** A unary or client-streaming call's result, or its error as a rejection. */
function result<T>(start: (cb: grpc.requestCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((err, value) => {
      if (err) reject(err);
      else if (value === undefined) reject(new Error("call returned no value"));
      else resolve(value);
    });
  });
}

/** A call that must fail: its error (the test fails if it succeeds). */
async function failure<T>(
  start: (cb: grpc.requestCallback<T>) => void,
): Promise<grpc.ServiceError> {
  try {
    const value = await result(start);
    throw new Error(`expected the call to fail, it returned ${JSON.stringify(value)}`);
  } catch (err) {
    if (err instanceof Error && "code" in err) return err as grpc.ServiceError;
    throw err;
  }
}

/**
 * Reads a grpc-js response stream message by message. `status` settles with
 * the call's final status (code, details and trailers) however it ends.
 */
class Reader<T> {
  private readonly items: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  readonly status: Promise<grpc.StatusObject>;

  constructor(call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<never, T>) {
    const notify = () => {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    };
    call.on("data", (item: T) => {
      this.items.push(item);
      notify();
    });
    call.on("end", () => {
      this.ended = true;
      notify();
    });
    // A failed call also emits `status`, which carries the same code, details
    // and trailers; listening here keeps the error from being unhandled.
    call.on("error", () => {
      this.ended = true;
      notify();
    });
    this.status = new Promise((resolve) => call.on("status", resolve));
  }

  /** The next message; throws if the stream ended first. */
  async next(): Promise<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) return item;
      if (this.ended) {
        const status = await this.status;
        throw new Error(`stream ended (status ${status.code}: ${status.details})`);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Every message up to the end of the stream, and its final status. */
  async rest(): Promise<{ items: T[]; status: grpc.StatusObject }> {
    const status = await this.status;
    while (!this.ended) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    return { items: this.items.splice(0), status };
  }
}

/** Read `{ events }` responses until `done` holds for the events seen so far. */
async function readEvents(
  reader: Reader<EventsResponse>,
  done: (seen: RoomEvent[]) => boolean,
): Promise<RoomEvent[]> {
  const seen: RoomEvent[] = [];
  while (!done(seen)) seen.push(...(await reader.next()).events);
  return seen;
}

function messages(events: readonly RoomEvent[]): ChatMessage[] {
  return events.flatMap((e) => (e.event === "message" && e.message ? [e.message] : []));
}

interface AnyDetail {
  typeUrl: string;
  value: Uint8Array;
}

/** Decode a google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }. */
function decodeStatus(bytes: Uint8Array): { code: number; message: string; details: AnyDetail[] } {
  const reader = new BinaryReader(bytes);
  const status = { code: 0, message: "", details: [] as AnyDetail[] };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) status.code = reader.int32();
    else if (field === 2) status.message = reader.string();
    else if (field === 3) {
      const any = fromBinary(AnySchema, reader.bytes());
      status.details.push({ typeUrl: any.typeUrl, value: any.value });
    } else reader.skip(wireType);
  }
  return status;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: ParleyServer;
let client: ChatServiceClient;

function send(req: SendRequest): Promise<SendResponse> {
  return result<SendResponse>((cb) => client.send(req, cb));
}
function history(req: HistoryRequest): Promise<HistoryResponse> {
  return result<HistoryResponse>((cb) => client.history(req, cb));
}
function listener(
  requests: ListenerRequest[],
): (cb: grpc.requestCallback<ListenerResponse>) => void {
  return (cb) => {
    const call = client.listener(cb);
    for (const r of requests) call.write(r);
    call.end();
  };
}
async function fill(room: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await send({ room, author: "ann", text: `m${i}` });
}

beforeAll(async () => {
  server = await startTestServer();
  client = new ChatService(
    `127.0.0.1:${server.port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as ChatServiceClient;
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe("the proto as @grpc/proto-loader sees it", () => {
  it("has every ChatService method with its streaming shape", () => {
    const shapes = Object.values(ChatService.service).map((m) => [
      m.path,
      m.requestStream,
      m.responseStream,
    ]);
    expect(shapes).toEqual([
      ["/chat.v1.ChatService/Send", false, false],
      ["/chat.v1.ChatService/Listener", true, false],
      ["/chat.v1.ChatService/Subscribe", false, true],
      ["/chat.v1.ChatService/Echo", true, true],
      ["/chat.v1.ChatService/Chat", true, true],
      ["/chat.v1.ChatService/History", false, false],
      ["/chat.v1.ChatService/ListRooms", false, false],
      ["/chat.v1.ChatService/ListMembers", false, false],
      ["/chat.v1.ChatService/SetTyping", false, false],
      ["/chat.v1.ChatService/Login", false, false],
      ["/chat.v1.ChatService/JoinRoom", false, false],
      ["/chat.v1.ChatService/LeaveRoom", false, false],
      ["/chat.v1.ChatService/ListMyRooms", false, false],
      ["/chat.v1.ChatService/MarkRead", false, false],
      ["/chat.v1.ChatService/OpenConversation", false, false],
      ["/chat.v1.ChatService/Feed", false, true],
    ]);
  });
});

describe("grpc-js over h2c", () => {
  it("unary Send: seq 1, 2, and an idempotent retry returns the original", async () => {
    const room = "grpc-send";
    const first = await send({ room, author: "ann", text: "  hello  " });
    expect(first.duplicate).toBe(false);
    expect(first.message).toMatchObject({
      room,
      seq: "1",
      author: "ann",
      text: "hello",
      clientMessageId: "",
    });
    expect(first.message?.id).toMatch(UUID);
    expect(first.message?.sentAt?.seconds).toMatch(/^[1-9][0-9]*$/);

    const second = await send({ room, author: "bob", text: "hi", clientMessageId: "c-1" });
    expect(second.duplicate).toBe(false);
    expect(second.message).toMatchObject({ seq: "2", clientMessageId: "c-1", text: "hi" });
    expect(second.message?.id).toMatch(UUID);
    expect(second.message?.id).not.toBe(first.message?.id);

    const retry = await send({ room, author: "bob", text: "hi", clientMessageId: "c-1" });
    expect(retry.duplicate).toBe(true);
    expect(retry.message).toEqual(second.message);

    const stored = await history({ room });
    expect(stored.messages.map((m) => m.seq)).toEqual(["1", "2"]);
    expect(stored.lastSeq).toBe("2");
  });

  it("unary History: pages forward and back, and applies a read mask", async () => {
    const room = "grpc-history";
    await fill(room, 5);

    const all = await history({ room });
    expect(all.messages.map((m) => [m.seq, m.text])).toEqual([
      ["1", "m1"],
      ["2", "m2"],
      ["3", "m3"],
      ["4", "m4"],
      ["5", "m5"],
    ]);
    expect(all.lastSeq).toBe("5");
    expect(all.firstSeq).toBe("1");
    expect(all.hasMore).toBe(false);
    expect(all.epoch).toMatch(/^[A-Za-z0-9_-]{12}$/);

    // after_seq is proto3 optional: 0 is sent as present, so this pages from
    // the oldest (without presence it would be the newest two, 4 and 5).
    const page1 = await history({ room, afterSeq: 0, limit: 2 });
    expect(page1.messages.map((m) => m.seq)).toEqual(["1", "2"]);
    expect(page1.hasMore).toBe(true);
    const page2 = await history({ room, afterSeq: 2, limit: 2 });
    expect(page2.messages.map((m) => m.seq)).toEqual(["3", "4"]);
    expect(page2.hasMore).toBe(true);
    const page3 = await history({ room, afterSeq: 4, limit: 2 });
    expect(page3.messages.map((m) => m.seq)).toEqual(["5"]);
    expect(page3.hasMore).toBe(false);

    const older = await history({ room, beforeSeq: 4, limit: 2 });
    expect(older.messages.map((m) => m.seq)).toEqual(["2", "3"]);
    expect(older.hasMore).toBe(true);

    const masked = await history({ room, limit: 1, readMask: { paths: ["seq", "text"] } });
    expect(masked.messages).toEqual([
      { room: "", seq: "5", id: "", author: "", text: "m5", sentAt: null, clientMessageId: "" },
    ]);
    expect(masked.lastSeq).toBe("5");
    expect(masked.epoch).toBe(all.epoch);
  });

  it("client-streaming Listener: stores each request and returns the summary", async () => {
    const room = "grpc-listener";
    const other = "grpc-listener-other";
    const summary = await result(
      listener([
        { room, author: "cat", text: "one" },
        { text: "two" },
        { room: other, text: "elsewhere" },
        { room, author: "dan", text: "three", clientMessageId: "l-1" },
      ]),
    );
    expect(summary).toEqual({
      accepted: "4",
      firstSeq: "1",
      lastSeq: "3",
      rooms: [
        { room, accepted: "3", firstSeq: "1", lastSeq: "3" },
        { room: other, accepted: "1", firstSeq: "1", lastSeq: "1" },
      ],
    });
    const stored = await history({ room });
    expect(stored.messages.map((m) => [m.seq, m.author, m.text, m.clientMessageId])).toEqual([
      ["1", "cat", "one", ""],
      ["2", "cat", "two", ""],
      ["3", "dan", "three", "l-1"],
    ]);
    const elsewhere = await history({ room: other });
    expect(elsewhere.messages.map((m) => [m.seq, m.author, m.text])).toEqual([
      ["1", "cat", "elsewhere"],
    ]);
  });

  it("server-streaming Subscribe: ready, replay after since_seq in order, then live", async () => {
    const room = "grpc-subscribe";
    await fill(room, 3);
    const { epoch } = await history({ room });

    const call = client.subscribe({ room, sinceSeq: 1 });
    const reader = new Reader(call);
    const start = await readEvents(reader, (seen) => messages(seen).length >= 2);
    expect(start.map((e) => e.event)).toEqual(["ready", "message", "message"]);
    expect(start[0]?.ready).toMatchObject({ room, epoch, lastSeq: "3", firstSeq: "1" });
    expect(start[0]?.ready?.memberId).not.toBe("");
    expect(messages(start).map((m) => [m.seq, m.text])).toEqual([
      ["2", "m2"],
      ["3", "m3"],
    ]);

    const sent = await send({ room, author: "eve", text: "live" });
    expect(sent.message?.seq).toBe("4");
    const live = await readEvents(reader, (seen) => messages(seen).length >= 1);
    expect(live.map((e) => e.event)).toEqual(["message"]);
    expect(messages(live)).toEqual([sent.message]);

    call.cancel();
    expect((await reader.status).code).toBe(grpc.status.CANCELLED);
  });

  it("bidi Echo: per-stream seq 1, 2, 3 with received_at", async () => {
    const call = client.echo();
    const reader = new Reader(call);
    for (const text of ["a", "b", "c"]) call.write({ text });
    call.end();
    const { items, status } = await reader.rest();
    expect(status.code).toBe(grpc.status.OK);
    expect(items.map((r) => [r.text, r.seq])).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
    ]);
    for (const r of items) {
      expect(r.receivedAt?.seconds).toMatch(/^[1-9][0-9]*$/);
      expect(r.receivedAt?.nanos).toBeGreaterThanOrEqual(0);
      expect(r.receivedAt?.nanos).toBeLessThan(1e9);
    }
  });

  it("bidi Chat: join with since_seq, post, and receive the own message with its seq", async () => {
    const room = "grpc-chat";
    await fill(room, 2);
    const { epoch } = await history({ room });

    const call = client.chat();
    const reader = new Reader(call);
    call.write({ join: { room, author: "fay", sinceSeq: 1 } });
    const start = await readEvents(reader, (seen) => messages(seen).length >= 1);
    expect(start.map((e) => e.event)).toEqual(["ready", "message"]);
    expect(start[0]?.ready).toMatchObject({ room, epoch, lastSeq: "2", firstSeq: "1" });
    expect(messages(start).map((m) => [m.seq, m.text])).toEqual([["2", "m2"]]);

    call.write({ post: { text: "  from chat  ", clientMessageId: "chat-1" } });
    const own = await readEvents(reader, (seen) => messages(seen).length >= 1);
    expect(own.map((e) => e.event)).toEqual(["message"]);
    const mine = messages(own)[0];
    expect(mine).toMatchObject({
      room,
      seq: "3",
      author: "fay",
      text: "from chat",
      clientMessageId: "chat-1",
    });
    expect(mine?.id).toMatch(UUID);

    // The Send idempotency key space is shared: a retry over Send finds it.
    const retry = await send({ room, author: "fay", text: "from chat", clientMessageId: "chat-1" });
    expect(retry.duplicate).toBe(true);
    expect(retry.message).toEqual(mine);

    call.cancel();
    expect((await reader.status).code).toBe(grpc.status.CANCELLED);
  });
});

describe("grpc-js sees the server's errors, one per call shape", () => {
  it("unary Send to an uppercase room is INVALID_ARGUMENT naming the room", async () => {
    const err = await failure<SendResponse>((cb) =>
      client.send({ room: "Lobby", author: "ann", text: "hi" }, cb),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const message = err.details;
    expect(message.startsWith("room: must be 1-64 characters")).toBe(true);
    expect(message).toContain('(got "Lobby")');
  });

  // connect-node escapes every URI-reserved character of grpc-message and
  // grpc-js only undoes some of them (decodeURI); the server re-encodes the
  // trailer as the gRPC spec says, so a grpc-js user reads the message as is.
  it("grpc-message reaches grpc-js readable, with ':' and ',' intact", async () => {
    const err = await failure<SendResponse>((cb) =>
      client.send({ room: "Lobby", author: "ann", text: "hi" }, cb),
    );
    expect(err.details).toBe(
      'room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "Lobby")',
    );
  });

  it("grpc-message keeps non-ASCII text readable through the spec's percent-encoding", async () => {
    const err = await failure<SendResponse>((cb) =>
      client.send({ room: "caf\u00e9-100%", author: "ann", text: "hi" }, cb),
    );
    expect(err.details).toBe(
      'room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "caf\u00e9-100%")',
    );
  });

  it("client-streaming Listener with a bad third text names requests[2] and what was stored", async () => {
    const room = "grpc-listener-bad";
    const err = await failure(
      listener([
        { room, author: "cat", text: "one" },
        { text: "two" },
        { text: "   " },
        { text: "never" },
      ]),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const message = err.details;
    expect(message.startsWith("requests[2].text: ")).toBe(true);
    expect(message).toContain("the 2 earlier requests were stored (first_seq 1, last_seq 2)");
    const stored = await history({ room });
    expect(stored.messages.map((m) => [m.seq, m.text])).toEqual([
      ["1", "one"],
      ["2", "two"],
    ]);
  });

  it("server-streaming Subscribe ahead of the log is OUT_OF_RANGE with a ResumeError detail", async () => {
    const room = "grpc-ahead";
    await fill(room, 2);
    const { epoch } = await history({ room });

    const reader = new Reader(client.subscribe({ room, sinceSeq: 5 }));
    const { items, status } = await reader.rest();
    expect(items).toEqual([]);
    expect(status.code).toBe(grpc.status.OUT_OF_RANGE);
    const message = `since_seq 5 is ahead of room "${room}": its last seq is 2`;
    expect(status.details).toBe(message);

    const trailer = status.metadata.get("grpc-status-details-bin");
    expect(trailer).toHaveLength(1);
    expect(trailer[0]).toBeInstanceOf(Buffer);
    const decoded = decodeStatus(trailer[0] as Buffer);
    expect(decoded.code).toBe(grpc.status.OUT_OF_RANGE);
    expect(decoded.message).toBe(message);
    expect(decoded.details.map((d) => d.typeUrl)).toEqual([
      "type.googleapis.com/chat.v1.ResumeError",
    ]);
    const detail = fromBinary(ResumeErrorSchema, decoded.details[0]?.value ?? new Uint8Array());
    expect(detail.epoch).toBe(epoch);
    expect(detail.firstSeq).toBe(1n);
    expect(detail.lastSeq).toBe(2n);
  });

  it("bidi Chat whose first request is a post is INVALID_ARGUMENT naming join", async () => {
    const call = client.chat();
    const reader = new Reader(call);
    call.write({ post: { text: "too early" } });
    const { items, status } = await reader.rest();
    expect(items).toEqual([]);
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe("join: the first request of a Chat stream must be a join");
    call.end();
  });

  it("bidi Echo cancelled by the client ends CANCELLED on the client", async () => {
    const call = client.echo();
    const reader = new Reader(call);
    call.write({ text: "a" });
    const first = await reader.next();
    expect([first.text, first.seq]).toEqual(["a", "1"]);
    call.cancel();
    const { status } = await reader.rest();
    expect(status.code).toBe(grpc.status.CANCELLED);
    expect(status.details).toBe("Cancelled on client");

    // The channel is still usable afterwards.
    const again = client.echo();
    const replies = new Reader(again);
    again.write({ text: "b" });
    again.end();
    const after = await replies.rest();
    expect(after.status.code).toBe(grpc.status.OK);
    expect(after.items.map((r) => [r.text, r.seq])).toEqual([["b", "1"]]);
  });
});
