import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  type ChatRequest,
  ChatRequestSchema,
  ChatService,
  type ListenerRequest,
  ListenerRequestSchema,
  type RoomEvent,
  SendRequestSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../../src/client/ws-transport.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { messageSeqs } from "../../helpers/streams.js";
import { chatClient, startTestServer, type TransportName } from "../../helpers/test-server.js";

/**
 * Every validation rule of proto/chat/v1/chat.proto, through the public RPC
 * surface of a real server: each refusal has the exact code, a message that
 * starts with the field and names the limit, and stores nothing.
 */

let server: ParleyServer;
let client: ReturnType<typeof chatClient>;

beforeAll(async () => {
  server = await startTestServer();
  client = chatClient(server.url);
});

afterAll(async () => {
  await server?.stop();
});

let rooms = 0;
/** A room name no other test uses. */
function freshRoom(label: string): string {
  rooms++;
  return `${label}-${rooms}`;
}

/** The error a call fails with; fails the test if the call succeeds. */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Assert the code, that the message starts with `field: ` and that it mentions each fragment. */
function expectRefusal(err: ConnectError, code: Code, field: string, ...fragments: string[]): void {
  expect(Code[err.code]).toBe(Code[code]);
  const prefix = `${field}: `;
  expect(err.rawMessage.slice(0, prefix.length), err.rawMessage).toBe(prefix);
  for (const fragment of fragments) expect(err.rawMessage).toContain(fragment);
}

/** A valid room has nothing stored: History returns no messages and last_seq 0. */
async function expectNothingStored(room: string): Promise<void> {
  const page = await client.history({ room });
  expect(page.messages).toEqual([]);
  expect(page.lastSeq).toBe(0n);
  expect(page.firstSeq).toBe(0n);
}

/** For names History itself refuses: nothing was appended to the store under that name. */
async function expectNothingStoredUnder(name: string): Promise<void> {
  const head = await server.log.head(name);
  expect(head.lastSeq).toBe(0);
  expect(head.firstSeq).toBe(0);
}

/** The texts stored in a room, oldest first. */
async function storedTexts(room: string): Promise<string[]> {
  const page = await client.history({ room, limit: 1000 });
  expect(page.lastSeq).toBe(BigInt(page.messages.length));
  return page.messages.map((m) => m.text);
}

const ROOM_LIMIT = "must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit";
const TEXT_LIMIT = "must be 1-500 characters after trimming";
const AUTHOR_LIMIT = "must be 1-32 characters after trimming";
const ID_LIMIT = "must be empty or 1-64 printable ASCII characters";

describe("room", () => {
  it("is required", async () => {
    const err = await failure(client.send({ room: "", author: "ann", text: "hi" }));
    expectRefusal(err, Code.InvalidArgument, "room", "is required");
    await expectNothingStoredUnder("");
  });

  it.each([
    ["65 characters", "r".repeat(65)],
    ["uppercase", "Lobby"],
    ["a space", "the lobby"],
    ["a leading underscore", "_lobby"],
    ["a leading hyphen", "-lobby"],
  ])("with %s is refused", async (_, room) => {
    const err = await failure(client.send({ room, author: "ann", text: "hi" }));
    expectRefusal(err, Code.InvalidArgument, "room", ROOM_LIMIT, JSON.stringify(room));
    await expectNothingStoredUnder(room);
  });

  it("of exactly 64 valid characters is accepted", async () => {
    const room = "z9_-".repeat(16);
    expect(room).toHaveLength(64);
    const res = await client.send({ room, author: "ann", text: "hi" });
    expect(res.message?.room).toBe(room);
    expect(res.message?.seq).toBe(1n);
    expect(await storedTexts(room)).toEqual(["hi"]);
  });

  it('"a" is accepted', async () => {
    const res = await client.send({ room: "a", author: "ann", text: "hi" });
    expect(res.message?.room).toBe("a");
    expect(res.message?.seq).toBe(1n);
    expect(await storedTexts("a")).toEqual(["hi"]);
  });
});

describe("author", () => {
  it.each([
    ["empty", "", "(got 0)"],
    ["only whitespace", " \t\n ", "(got 0)"],
    ["33 characters", "a".repeat(33), "(got 33)"],
    ["33 characters, 16 of them emoji", `${"😀".repeat(16)}${"a".repeat(17)}`, "(got 33)"],
  ])("%s is refused", async (_, author, got) => {
    const room = freshRoom("author");
    const err = await failure(client.send({ room, author, text: "hi" }));
    expectRefusal(err, Code.InvalidArgument, "author", AUTHOR_LIMIT, got);
    await expectNothingStored(room);
  });

  it("with a control character is refused", async () => {
    const room = freshRoom("author");
    const err = await failure(client.send({ room, author: "ann\u0007", text: "hi" }));
    expectRefusal(err, Code.InvalidArgument, "author", "must not contain control characters");
    await expectNothingStored(room);
  });

  it.each([
    ["a right-to-left override", "admin\u202Etxt.exe", "U+202E"],
    ["a left-to-right mark", "ann\u200E", "U+200E"],
    ["a first-strong isolate", "\u2068ann", "U+2068"],
    ["a zero-width no-break space inside", "an\uFEFFn", "U+FEFF"],
    ["a word joiner (another Cf)", "an\u2060n", "U+2060"],
  ])("with %s is refused, naming the code point", async (_, author, code) => {
    const room = freshRoom("author");
    const err = await failure(client.send({ room, author, text: "hi" }));
    expectRefusal(
      err,
      Code.InvalidArgument,
      "author",
      `must not contain invisible format characters such as bidi controls (got ${code})`,
    );
    await expectNothingStored(room);
  });

  it("of 32 characters counts code points, not UTF-16 units or bytes", async () => {
    const room = freshRoom("author");
    // 32 code points: 64 UTF-16 units, 128 UTF-8 bytes.
    const emoji = "😀".repeat(32);
    // 32 code points: a ZWJ sequence (3 code points, 5 units) and 29 more.
    const mixed = `👩‍💻${"é".repeat(29)}`;
    expect([...emoji]).toHaveLength(32);
    expect([...mixed]).toHaveLength(32);
    const first = await client.send({ room, author: emoji, text: "one" });
    const second = await client.send({ room, author: ` ${mixed} `, text: "two" });
    expect(first.message?.author).toBe(emoji);
    expect(second.message?.author).toBe(mixed);
    const page = await client.history({ room });
    expect(page.messages.map((m) => m.author)).toEqual([emoji, mixed]);
  });
});

describe("text", () => {
  it.each([
    ["empty", "", "(got 0)"],
    ["whitespace only", "  \t\r\n  ", "(got 0)"],
    ["501 characters after trimming", `  ${"x".repeat(501)}  `, "(got 501)"],
    ["501 emoji", "😀".repeat(501), "(got 501)"],
  ])("%s is refused", async (_, text, got) => {
    const room = freshRoom("text");
    const err = await failure(client.send({ room, author: "ann", text }));
    expectRefusal(err, Code.InvalidArgument, "text", TEXT_LIMIT, got);
    await expectNothingStored(room);
  });

  it("of 500 characters with surrounding spaces is accepted and stored trimmed", async () => {
    const room = freshRoom("text");
    const body = `a${"b".repeat(498)}c`;
    const res = await client.send(
      create(SendRequestSchema, { room, author: "ann", text: `   ${body}\n\t ` }),
    );
    expect(res.message?.text).toBe(body);
    expect(await storedTexts(room)).toEqual([body]);
  });

  it("of 500 emoji (1000 UTF-16 units, 2000 bytes) is accepted", async () => {
    const room = freshRoom("text");
    const text = "😀".repeat(500);
    const res = await client.send({ room, author: "ann", text });
    expect(res.message?.text).toBe(text);
    expect(await storedTexts(room)).toEqual([text]);
  });

  it("with a lone surrogate (connect JSON) is refused", async () => {
    const json = createClient(
      ChatService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: false }),
    );
    const room = freshRoom("text");
    const err = await failure(json.send({ room, author: "ann", text: "ab\ud800cd" }));
    // The protobuf runtime refuses it while decoding, before the handler runs,
    // so the message names the field by its full name.
    expect(Code[err.code]).toBe(Code[Code.InvalidArgument]);
    expect(err.rawMessage).toBe(
      "cannot decode field chat.v1.SendRequest.text from JSON: expected string: invalid UTF8",
    );
    await expectNothingStored(room);
  });

  it("an author with a lone surrogate (connect JSON) is refused", async () => {
    const json = createClient(
      ChatService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: false }),
    );
    const room = freshRoom("author");
    const err = await failure(json.send({ room, author: "an\udc00n", text: "hi" }));
    expect(Code[err.code]).toBe(Code[Code.InvalidArgument]);
    expect(err.rawMessage).toBe(
      "cannot decode field chat.v1.SendRequest.author from JSON: expected string: invalid UTF8",
    );
    await expectNothingStored(room);
  });
});

describe("client_message_id", () => {
  it.each([
    ["65 characters", "k".repeat(65)],
    ["non-ASCII", "ключ-1"],
    ["a control character", "key\t1"],
  ])("with %s is refused", async (_, clientMessageId) => {
    const room = freshRoom("cmid");
    const err = await failure(client.send({ room, author: "ann", text: "hi", clientMessageId }));
    expectRefusal(
      err,
      Code.InvalidArgument,
      "client_message_id",
      ID_LIMIT,
      JSON.stringify(clientMessageId),
    );
    await expectNothingStored(room);
  });

  it("of 64 printable ASCII characters is accepted", async () => {
    const room = freshRoom("cmid");
    const clientMessageId = `~ !${"k".repeat(61)}`;
    expect(clientMessageId).toHaveLength(64);
    const res = await client.send({ room, author: "ann", text: "hi", clientMessageId });
    expect(res.duplicate).toBe(false);
    expect(res.message?.clientMessageId).toBe(clientMessageId);
    const page = await client.history({ room });
    expect(page.messages.map((m) => m.clientMessageId)).toEqual([clientMessageId]);
  });

  it.each([
    ["another text", { author: "ann", text: "hello?" }, "text"],
    ["another author", { author: "bob", text: "hello" }, "author"],
  ])(
    "reused with %s is refused with ALREADY_EXISTS; the exact retry still answers",
    async (_, other, differs) => {
      const room = freshRoom("cmid");
      const first = await client.send({
        room,
        author: "ann",
        text: "hello",
        clientMessageId: "k-1",
      });
      const err = await failure(client.send({ room, ...other, clientMessageId: "k-1" }));
      expect([Code[err.code], err.rawMessage]).toEqual([
        Code[Code.AlreadyExists],
        `client_message_id: "k-1" already names message 1 in room "${room}", which has another ${differs}; a retry must repeat the message exactly, and a new message needs a new key`,
      ]);
      // Compared as stored: trimmed, so spaces around the text still make a retry.
      const retry = await client.send({
        room,
        author: " ann",
        text: "hello \n",
        clientMessageId: "k-1",
      });
      expect(retry.duplicate).toBe(true);
      expect(retry.message).toEqual(first.message);
      expect(await storedTexts(room)).toEqual(["hello"]);
    },
  );

  it("reused with another text inside a Listener stream ends it at once, saying what was stored", async () => {
    const room = freshRoom("cmid");
    // The client sends nothing after the refused request and never half-closes:
    // the refusal alone must end the call.
    let finish = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    async function* requests(): AsyncGenerator<ListenerRequest> {
      yield listen(room, "ann", "one", "k-1");
      yield listen("", "", "two", "k-1");
      await finished;
      yield listen("", "", "never sent");
    }
    const err = await failure(client.listener(requests())).finally(finish);
    expect([Code[err.code], err.rawMessage]).toEqual([
      Code[Code.AlreadyExists],
      `requests[1].client_message_id: "k-1" already names message 1 in room "${room}", which has another text; a retry must repeat the message exactly, and a new message needs a new key; the 1 earlier request was stored (first_seq 1, last_seq 1)`,
    ]);
    expect(await storedTexts(room)).toEqual(["one"]);
  });
});

describe("wire size", () => {
  it("a Send of about 70 KiB is refused with RESOURCE_EXHAUSTED", async () => {
    const room = freshRoom("wire");
    const err = await failure(client.send({ room, author: "ann", text: "x".repeat(70 * 1024) }));
    expect(Code[err.code]).toBe(Code[Code.ResourceExhausted]);
    expect(err.rawMessage).toContain("65536");
    await expectNothingStored(room);
  });

  it("a Send just under 64 KiB passes the wire limit and meets the text limit", async () => {
    const room = freshRoom("wire");
    const err = await failure(client.send({ room, author: "ann", text: "x".repeat(65_000) }));
    expectRefusal(err, Code.InvalidArgument, "text", TEXT_LIMIT, "(got 65000)");
    await expectNothingStored(room);
  });
});

describe("History", () => {
  it("limit 1001 is refused", async () => {
    const room = freshRoom("hist");
    await client.send({ room, author: "ann", text: "hi" });
    const err = await failure(client.history({ room, limit: 1001 }));
    expectRefusal(err, Code.InvalidArgument, "limit", "at most 1000", "(got 1001)");
    expect(await storedTexts(room)).toEqual(["hi"]);
  });

  it("limit 1000 is accepted", async () => {
    const room = freshRoom("hist");
    await client.send({ room, author: "ann", text: "hi" });
    const page = await client.history({ room, limit: 1000 });
    expect(page.messages.map((m) => m.text)).toEqual(["hi"]);
  });

  it("a bad room is refused", async () => {
    const err = await failure(client.history({ room: "No Such Room" }));
    expectRefusal(err, Code.InvalidArgument, "room", ROOM_LIMIT);
  });

  it("an unknown read_mask path is refused", async () => {
    const room = freshRoom("hist");
    await client.send({ room, author: "ann", text: "hi" });
    const err = await failure(client.history({ room, readMask: { paths: ["seq", "colour"] } }));
    expectRefusal(err, Code.InvalidArgument, "read_mask", 'unknown path "colour"');
    expect(await storedTexts(room)).toEqual(["hi"]);
  });

  it('read_mask ["seq", "text"] returns only seq and text', async () => {
    const room = freshRoom("hist");
    await client.send({ room, author: "ann", text: "one", clientMessageId: "c1" });
    await client.send({ room, author: "bob", text: "two", clientMessageId: "c2" });
    const page = await client.history({ room, readMask: { paths: ["seq", "text"] } });
    expect(page.lastSeq).toBe(2n);
    expect(
      page.messages.map((m) => ({
        room: m.room,
        seq: m.seq,
        id: m.id,
        author: m.author,
        text: m.text,
        sentAt: m.sentAt,
        clientMessageId: m.clientMessageId,
      })),
    ).toEqual([
      {
        room: "",
        seq: 1n,
        id: "",
        author: "",
        text: "one",
        sentAt: undefined,
        clientMessageId: "",
      },
      {
        room: "",
        seq: 2n,
        id: "",
        author: "",
        text: "two",
        sentAt: undefined,
        clientMessageId: "",
      },
    ]);
  });
});

/** Read a stream to its end; returns what arrived and the error it ended with. */
async function readToError<T>(stream: AsyncIterable<T>): Promise<{ got: T[]; err: ConnectError }> {
  const got: T[] = [];
  const err = await failure(
    (async () => {
      for await (const res of stream) got.push(res);
    })(),
  );
  return { got, err };
}

describe("Subscribe", () => {
  it("a bad room is refused when the stream is read", async () => {
    const stream = client.subscribe({ room: "Bad Room" });
    const { got, err } = await readToError(stream);
    expect(got).toEqual([]);
    expectRefusal(err, Code.InvalidArgument, "room", ROOM_LIMIT, '"Bad Room"');
    await expectNothingStoredUnder("Bad Room");
  });

  it("an epoch longer than 64 characters is refused", async () => {
    const room = freshRoom("sub");
    const { got, err } = await readToError(client.subscribe({ room, epoch: "e".repeat(65) }));
    expect(got).toEqual([]);
    expectRefusal(err, Code.InvalidArgument, "epoch", "at most 64 characters");
    await expectNothingStored(room);
  });

  it("an epoch of exactly 64 characters passes validation (and mismatches)", async () => {
    const room = freshRoom("sub");
    const { got, err } = await readToError(client.subscribe({ room, epoch: "e".repeat(64) }));
    expect(got).toEqual([]);
    expect(Code[err.code]).toBe(Code[Code.FailedPrecondition]);
    await expectNothingStored(room);
  });
});

function listen(room: string, author: string, text: string, clientMessageId = ""): ListenerRequest {
  return create(ListenerRequestSchema, { room, author, text, clientMessageId });
}

describe("Listener", () => {
  it("a first request without a room is refused", async () => {
    const room = freshRoom("lis");
    async function* requests(): AsyncGenerator<ListenerRequest> {
      yield listen("", "ann", "no room yet");
      yield listen(room, "ann", "too late");
    }
    const err = await failure(client.listener(requests()));
    expectRefusal(
      err,
      Code.InvalidArgument,
      "requests[0].room",
      "is required on the first request",
      "no earlier request was stored",
    );
    await expectNothingStored(room);
  });

  it("a first request without an author is refused", async () => {
    const room = freshRoom("lis");
    async function* requests(): AsyncGenerator<ListenerRequest> {
      yield listen(room, "", "anonymous");
    }
    const err = await failure(client.listener(requests()));
    expectRefusal(err, Code.InvalidArgument, "requests[0].author", "is required");
    await expectNothingStored(room);
  });

  it("a bad third text is refused; the two before it stay stored", async () => {
    const room = freshRoom("lis");
    async function* requests(): AsyncGenerator<ListenerRequest> {
      yield listen(room, "ann", "one");
      yield listen("", "", "two");
      yield listen("", "", " \n ");
      yield listen("", "", "four");
    }
    const err = await failure(client.listener(requests()));
    expectRefusal(
      err,
      Code.InvalidArgument,
      "requests[2].text",
      TEXT_LIMIT,
      "the 2 earlier requests were stored (first_seq 1, last_seq 2)",
    );
    expect(await storedTexts(room)).toEqual(["one", "two"]);
  });
});

function join(room: string, author: string): ChatRequest {
  return create(ChatRequestSchema, { action: { case: "join", value: { room, author } } });
}

function post(text: string): ChatRequest {
  return create(ChatRequestSchema, { action: { case: "post", value: { text } } });
}

describe("Chat", () => {
  it("a first request that is a post instead of a join is refused", async () => {
    const room = freshRoom("chat");
    async function* requests(): AsyncGenerator<ChatRequest> {
      yield post("hello");
      yield join(room, "ann");
    }
    const { got, err } = await readToError(client.chat(requests()));
    expect(got).toEqual([]);
    expectRefusal(err, Code.InvalidArgument, "join", "must be a join");
    await expectNothingStored(room);
  });

  it("a join with a bad room is refused", async () => {
    async function* requests(): AsyncGenerator<ChatRequest> {
      yield join("Lobby", "ann");
    }
    const { got, err } = await readToError(client.chat(requests()));
    expect(got).toEqual([]);
    expectRefusal(err, Code.InvalidArgument, "join.room", ROOM_LIMIT);
    await expectNothingStoredUnder("Lobby");
  });

  it("a bad post ends the stream naming its index and is not stored", async () => {
    const room = freshRoom("chat");
    let sawFirst = () => {};
    const firstSeen = new Promise<void>((resolve) => {
      sawFirst = resolve;
    });
    async function* requests(): AsyncGenerator<ChatRequest> {
      yield join(room, "ann");
      yield post("hello");
      await firstSeen;
      yield post("   ");
      yield post("after the bad one");
    }
    const events: RoomEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const res of client.chat(requests())) {
          events.push(...res.events);
          if (messageSeqs(events).includes(1)) sawFirst();
        }
      })(),
    );
    expectRefusal(err, Code.InvalidArgument, "requests[2].post.text", TEXT_LIMIT, "(got 0)");
    expect(events[0]?.event.case).toBe("ready");
    expect(messageSeqs(events)).toEqual([1]);
    expect(await storedTexts(room)).toEqual(["hello"]);
  });
});

// Every transport that streams both ways (HTTP/1.1 cannot), the page's
// WebSocket included: there the join and its posts arrive in one read,
// before the room's log could be checked.
describe.each<TransportName | "websocket">(["connect-h2", "grpc-h2", "grpcweb-h2", "websocket"])(
  "a Chat join refused for its resume point, over %s",
  (transport) => {
    const chat = () =>
      transport === "websocket"
        ? createClient(
            ChatService,
            createWebSocketTransport({
              baseUrl: server.url,
              WebSocket: WebSocket as unknown as WebSocketConstructor,
            }),
          )
        : chatClient(server.url, transport);

    it.each([
      [
        "another epoch",
        { epoch: "old-epoch" },
        Code.FailedPrecondition,
        'epoch "old-epoch" does not match room',
      ],
      [
        "a since_seq past the end",
        { sinceSeq: 5n },
        Code.OutOfRange,
        "since_seq 5 is ahead of room",
      ],
    ])("(%s) stores none of the posts sent after it", async (_, resume, code, words) => {
      const room = freshRoom("chat");
      async function* requests(): AsyncGenerator<ChatRequest> {
        yield create(ChatRequestSchema, {
          action: { case: "join", value: { room, author: "ann", ...resume } },
        });
        yield post("sent before the refusal came");
        yield post("and another");
      }
      const { got, err } = await readToError(chat().chat(requests()));
      expect(got).toEqual([]);
      expect(Code[err.code]).toBe(Code[code]);
      expect(err.rawMessage).toContain(words);
      await expectNothingStored(room);
    });
  },
);

describe.each<TransportName>(["connect-h2", "grpc-h2", "grpcweb-h1"])("over %s", (transport) => {
  let c: ReturnType<typeof chatClient>;
  beforeAll(() => {
    c = chatClient(server.url, transport);
  });

  it("Send with an uppercase room is refused", async () => {
    const err = await failure(c.send({ room: "UPPER", author: "ann", text: "hi" }));
    expectRefusal(err, Code.InvalidArgument, "room", ROOM_LIMIT, '"UPPER"');
    await expectNothingStoredUnder("UPPER");
  });

  it("Send with 501 emoji is refused", async () => {
    const room = freshRoom(transport);
    const err = await failure(c.send({ room, author: "ann", text: "😀".repeat(501) }));
    expectRefusal(err, Code.InvalidArgument, "text", TEXT_LIMIT, "(got 501)");
    await expectNothingStored(room);
  });

  it("Send of about 70 KiB is refused with RESOURCE_EXHAUSTED", async () => {
    const room = freshRoom(transport);
    const err = await failure(c.send({ room, author: "ann", text: "x".repeat(70 * 1024) }));
    expect(Code[err.code]).toBe(Code[Code.ResourceExhausted]);
    expect(err.rawMessage).toContain("65536");
    await expectNothingStored(room);
  });

  it("Subscribe with a bad room is refused", async () => {
    const { got, err } = await readToError(c.subscribe({ room: "-bad" }));
    expect(got).toEqual([]);
    expectRefusal(err, Code.InvalidArgument, "room", ROOM_LIMIT, '"-bad"');
  });

  it("Listener with a bad third text keeps the first two", async () => {
    const room = freshRoom(transport);
    async function* requests(): AsyncGenerator<ListenerRequest> {
      yield listen(room, "ann", "one");
      yield listen("", "", "two");
      yield listen("", "", "x".repeat(501));
    }
    const err = await failure(c.listener(requests()));
    expectRefusal(
      err,
      Code.InvalidArgument,
      "requests[2].text",
      "(got 501)",
      "the 2 earlier requests were stored (first_seq 1, last_seq 2)",
    );
    expect(await storedTexts(room)).toEqual(["one", "two"]);
  });
});
