import { toJson } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type ChatMessage, ChatMessageSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import {
  bufCurl,
  killAllBufCurl,
  parseJsonDocuments,
  SERVED_METHODS,
  startBufCurl,
} from "../../helpers/buf-curl.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// The real `buf curl` against a real server, with no --schema: everything it
// knows about the API it learns through server reflection.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => killAllBufCurl());
afterAll(() => server.stop());

const url = (path = "") => `${server.url}${path}`;
const chat = () => chatClient(server.url);

/** The JSON documents a finished buf curl printed; fails on anything else in its output. */
async function curlDocs(args: string[], stdin?: string): Promise<unknown[]> {
  const { code, stdout, stderr } = await bufCurl(args, stdin);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const { docs, rest } = parseJsonDocuments(stdout);
  expect(rest.trim()).toBe("");
  return docs;
}

/** A stored message as protobuf JSON, which is what buf curl prints. */
const json = (m: ChatMessage | undefined) => (m ? toJson(ChatMessageSchema, m) : undefined);

/** The events of Subscribe or Chat responses, in order, checking each response is `{ events }`. */
function eventsOf(docs: unknown[]): Record<string, unknown>[] {
  return docs.flatMap((doc) => {
    expect(Object.keys(doc as object)).toEqual(["events"]);
    return (doc as { events: Record<string, unknown>[] }).events;
  });
}
const messageCount = (docs: unknown[]) => eventsOf(docs).filter((e) => "message" in e).length;

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const MEMBER_ID = /^[A-Za-z0-9_-]+$/;

describe("listing through reflection", () => {
  it("--list-services prints every mounted service", async () => {
    const { code, stdout, stderr } = await bufCurl(["--list-services", url()]);
    expect([code, stderr]).toEqual([0, ""]);
    expect(stdout).toBe(
      [
        "chat.v1.ChatService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "",
      ].join("\n"),
    );
  });

  it.each(["grpc-v1", "grpc-v1alpha"])(
    "--list-methods prints every method (--reflect-protocol %s)",
    async (reflectProtocol) => {
      const { code, stdout, stderr } = await bufCurl([
        "--reflect-protocol",
        reflectProtocol,
        "--list-methods",
        url(),
      ]);
      expect([code, stderr]).toEqual([0, ""]);
      expect(stdout).toBe(`${SERVED_METHODS.join("\n")}\n`);
    },
  );

  it("a service the server does not have is reported by name", async () => {
    const { code, stdout, stderr } = await bufCurl(["-d", "{}", url("/chat.v1.Nope/Send")]);
    expect(stdout).toBe("");
    expect(stderr).toBe('Failure: failed to find service named "chat.v1.Nope" in schema\n');
    expect(code).toBe(1);
  });
});

describe("ChatService through buf curl", () => {
  it("Send (unary, -d) prints the stored message", async () => {
    const room = "curl-send";
    const docs = await curlDocs([
      "-d",
      JSON.stringify({ room, author: "ann", text: "hello, room" }),
      url("/chat.v1.ChatService/Send"),
    ]);
    const stored = (await chat().history({ room })).messages;
    expect(stored.map((m) => [m.seq, m.author, m.text])).toEqual([[1n, "ann", "hello, room"]]);
    expect(docs).toEqual([{ message: json(stored[0]) }]);
  });

  it("Listener (client stream) takes several JSON documents on stdin (-d @-)", async () => {
    const room = "curl-listener";
    const stdin = [
      JSON.stringify({ room, author: "cli", text: "one" }),
      JSON.stringify({ text: "two" }),
      JSON.stringify({ room: `${room}-2`, text: "three" }),
    ].join("\n");
    const docs = await curlDocs(["-d", "@-", url("/chat.v1.ChatService/Listener")], stdin);
    expect(docs).toEqual([
      {
        accepted: "3",
        firstSeq: "1",
        lastSeq: "1",
        rooms: [
          { room, accepted: "2", firstSeq: "1", lastSeq: "2" },
          { room: `${room}-2`, accepted: "1", firstSeq: "1", lastSeq: "1" },
        ],
      },
    ]);
    const stored = (await chat().history({ room })).messages;
    expect(stored.map((m) => [m.author, m.text])).toEqual([
      ["cli", "one"],
      ["cli", "two"],
    ]);
  });

  it("Subscribe (server stream) prints stored, then live messages as they are sent", async () => {
    const room = "curl-subscribe";
    await chat().send({ room, author: "ann", text: "before" });
    const sub = startBufCurl([
      "-d",
      JSON.stringify({ room, sinceSeq: "0" }),
      url("/chat.v1.ChatService/Subscribe"),
    ]);
    onTestFinished(() => sub.kill());
    await sub.readUntil((docs) => messageCount(docs) >= 1);
    await chat().send({ room, author: "bob", text: "live" });
    const docs = await sub.readUntil((d) => messageCount(d) >= 2);
    await sub.kill();

    const history = await chat().history({ room });
    expect(eventsOf(docs)).toEqual([
      {
        ready: {
          room,
          epoch: history.epoch,
          lastSeq: "1",
          firstSeq: "1",
          memberId: expect.stringMatching(MEMBER_ID),
          // An anonymous subscriber (no author) has only its id in the JSON.
          members: [{ memberId: expect.stringMatching(MEMBER_ID) }],
        },
      },
      { message: json(history.messages[0]) },
      { message: json(history.messages[1]) },
    ]);
    expect(history.messages.map((m) => m.text)).toEqual(["before", "live"]);
  });

  // Bidi needs HTTP/2; buf curl switches to h2c by itself for bidi methods
  // (and for reflection), so neither protocol needs --http2-prior-knowledge.
  describe.each(["grpc", "connect"])("bidi over --protocol %s", (protocol) => {
    it("Echo returns each request with its seq", async () => {
      const docs = await curlDocs([
        "--protocol",
        protocol,
        "-d",
        '{"text":"ping"} {"text":"pong"}',
        url("/chat.v1.ChatService/Echo"),
      ]);
      expect(docs).toEqual([
        { text: "ping", seq: "1", receivedAt: expect.stringMatching(ISO_TIME) },
        { text: "pong", seq: "2", receivedAt: expect.stringMatching(ISO_TIME) },
      ]);
    });

    it("Chat joins, posts and sees its own message", async () => {
      const room = `curl-chat-${protocol}`;
      const talk = startBufCurl([
        "--protocol",
        protocol,
        "-d",
        `${JSON.stringify({ join: { room, author: "cli" } })} ${JSON.stringify({
          post: { text: "hi from buf", clientMessageId: "b-1" },
        })}`,
        url("/chat.v1.ChatService/Chat"),
      ]);
      onTestFinished(() => talk.kill());
      // The stream stays open after the posts (it is a subscription): read, then stop it.
      const docs = await talk.readUntil((d) => messageCount(d) >= 1);
      await talk.kill();

      const history = await chat().history({ room });
      expect(history.messages.map((m) => [m.author, m.text, m.clientMessageId])).toEqual([
        ["cli", "hi from buf", "b-1"],
      ]);
      expect(eventsOf(docs)).toEqual([
        {
          ready: {
            room,
            epoch: history.epoch,
            memberId: expect.stringMatching(MEMBER_ID),
            members: [{ memberId: expect.stringMatching(MEMBER_ID), author: "cli" }],
          },
        },
        { message: json(history.messages[0]) },
      ]);
    });
  });

  it("History returns a page with a field mask", async () => {
    const room = "curl-history";
    for (const text of ["a", "b", "c"]) await chat().send({ room, author: "ann", text });
    const docs = await curlDocs([
      "-d",
      JSON.stringify({ room, limit: 2, readMask: "seq,text" }),
      url("/chat.v1.ChatService/History"),
    ]);
    const { epoch } = await chat().history({ room });
    expect(docs).toEqual([
      {
        messages: [
          { seq: "2", text: "b" },
          { seq: "3", text: "c" },
        ],
        lastSeq: "3",
        epoch,
        firstSeq: "1",
        hasMore: true,
      },
    ]);
  });
});

describe("grpc.health.v1.Health through buf curl", () => {
  it("Check with no request body: the whole server is SERVING", async () => {
    expect(await curlDocs([url("/grpc.health.v1.Health/Check")])).toEqual([{ status: "SERVING" }]);
  });

  it("Check of an unknown service fails NOT_FOUND (exit code 5 << 3)", async () => {
    const { code, stdout, stderr } = await bufCurl([
      "-d",
      '{"service":"nope"}',
      url("/grpc.health.v1.Health/Check"),
    ]);
    expect(stdout).toBe("");
    expect(parseJsonDocuments(stderr).docs).toEqual([
      {
        code: "not_found",
        message: 'service: unknown service "nope"; this server reports "", "chat.v1.ChatService"',
      },
    ]);
    expect(code).toBe(5 << 3);
  });

  it("Watch prints SERVING, then NOT_SERVING when the server stops, then fails UNAVAILABLE", async () => {
    const own = await startTestServer();
    onTestFinished(() => own.stop());
    const watch = startBufCurl([
      "-d",
      '{"service":"chat.v1.ChatService"}',
      `${own.url}/grpc.health.v1.Health/Watch`,
    ]);
    onTestFinished(() => watch.kill());
    await watch.readUntil((docs) => docs.length >= 1);
    const stopped = own.stop();
    const { code, stdout, stderr } = await watch.exited();
    await stopped;
    expect(parseJsonDocuments(stdout).docs).toEqual([
      { status: "SERVING" },
      { status: "NOT_SERVING" },
    ]);
    expect(parseJsonDocuments(stderr).docs).toEqual([
      { code: "unavailable", message: "server is shutting down; resume from your last seq" },
    ]);
    expect(code).toBe(14 << 3);
  });
});
