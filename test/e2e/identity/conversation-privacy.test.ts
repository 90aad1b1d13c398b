import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import { conversationId } from "../../../src/chat/conversation-id.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import {
  createWebSocketTransport,
  type WebSocketTransport,
} from "../../../src/client/ws-transport.js";
import { AUTH_DEFAULTS } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { openSse } from "../../helpers/sse-client.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// Issue 20's privacy matrix: on every protocol and path, a caller that is
// not a participant of a conversation gets the same answer (code and
// message, but for the id) for an existing conversation as for an id nobody
// opened, for every kind of access: read (History), post (Send), follow
// (Subscribe, Chat's join, the SSE endpoint), members (ListMembers), typing,
// MarkRead, JoinRoom and LeaveRoom; neither ListRooms nor its ListMyRooms
// shows the conversation; and a participant gets ok. On a guest server
// (tokens from Login) and on a jwt server (tokens signed by the test).

const SECRET = "a shared secret of more than thirty-two bytes, for tests";

type Path =
  | "connect-json"
  | "connect-binary"
  | "grpc-direct"
  | "grpc-connect-path"
  | "grpc-web"
  | "sse"
  | "websocket";
const PATHS: Path[] = [
  "connect-json",
  "connect-binary",
  "grpc-direct",
  "grpc-connect-path",
  "grpc-web",
  "sse",
  "websocket",
];

type Op =
  | "history"
  | "send"
  | "listener"
  | "subscribe"
  | "chat"
  | "members"
  | "typing"
  | "mark-read"
  | "leave"
  | "join"
  | "list";
/** leave before join: a participant leaves and joins again, and stays a member. */
const OPS: Op[] = [
  "history",
  "send",
  "listener",
  "subscribe",
  "chat",
  "members",
  "typing",
  "mark-read",
  "leave",
  "join",
  "list",
];
/** Client and bidi streams need HTTP/2 or the WebSocket. */
const STREAMING: Path[] = ["grpc-direct", "grpc-connect-path", "websocket"];

function opsOf(path: Path): Op[] {
  if (path === "sse") return ["subscribe"];
  return OPS.filter((op) => (op !== "chat" && op !== "listener") || STREAMING.includes(path));
}

/** One server of the matrix: how it is started and how a name gets a token. */
interface Mode {
  name: string;
  start(): Promise<ParleyServer>;
  token(server: ParleyServer, name: string): Promise<string>;
}

const MODES: Mode[] = [
  {
    name: "guest",
    start: () =>
      startTestServer({
        auth: { ...AUTH_DEFAULTS, mode: "guest", secretFile: secretFile(SECRET) },
      }),
    token: async (server, name) => (await chatClient(server.url).login({ name })).token,
  },
  {
    name: "jwt",
    start: () =>
      startTestServer({ auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET) } }),
    token: (_server, name) => hsToken(SECRET, { sub: name }),
  },
];

for (const mode of MODES) {
  describe(`conversation privacy on a ${mode.name} server`, () => {
    let server: ParleyServer;
    let ws: WebSocketTransport;
    const tokens: Record<string, string> = {};
    /** The conversation of ann and bob. */
    let dm = "";
    /** A conversation id nobody opened. */
    const missing = conversationId(["ann", "nobody-ever"]);

    beforeAll(async () => {
      server = await mode.start();
      ws = createWebSocketTransport({
        baseUrl: server.url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });
      for (const name of ["ann", "bob", "eve"]) tokens[name] = await mode.token(server, name);
      const opened = await chatClient(server.url).openConversation(
        { participants: ["bob"] },
        bearer("ann"),
      );
      dm = opened.conversation?.room ?? "";
      expect(dm).toBe(conversationId(["ann", "bob"]));
      await chatClient(server.url).send({ room: dm, text: "between us" }, bearer("bob"));
    });
    afterAll(async () => {
      ws.close();
      await server.stop();
    });

    function bearer(name: string) {
      return { headers: { authorization: `Bearer ${tokens[name]}` } };
    }

    function client(path: Exclude<Path, "sse">): Client<typeof ChatService> {
      const baseUrl = server.url;
      switch (path) {
        case "connect-json":
          return createClient(
            ChatService,
            createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
          );
        case "connect-binary":
          return chatClient(baseUrl, "connect-h2");
        case "grpc-direct":
          return chatClient(baseUrl, "grpc-h2");
        case "grpc-connect-path":
          // The direct path takes uncompressed requests only: gzip goes through connect-node.
          return createClient(
            ChatService,
            createGrpcTransport({ baseUrl, sendCompression: compressionGzip }),
          );
        case "grpc-web":
          return chatClient(baseUrl, "grpcweb-h1");
        case "websocket":
          return createClient(ChatService, ws);
      }
    }

    /** What one call got: "ok", or "<code>: <message>" with the room's id written <id>. */
    async function attempt(path: Path, op: Op, who: string, room: string): Promise<string> {
      const hide = (text: string) => text.replaceAll(room, "<id>");
      if (path === "sse") {
        const query = new URLSearchParams({ token: tokens[who] ?? "" });
        const url = `${server.url}/rooms/${room}/events?${query}`;
        const stream = await openSse(url);
        stream.close();
        if (stream.status === 200) return "ok";
        const body = (await fetch(url, { headers: { accept: "text/event-stream" } }).then((r) =>
          r.json(),
        )) as { code: string; message: string };
        return hide(`${Code[codeFromString(body.code) ?? Code.Unknown]}: ${body.message}`);
      }
      const c = client(path);
      const options = bearer(who);
      try {
        switch (op) {
          case "history":
            await c.history({ room }, options);
            break;
          case "send":
            await c.send({ room, text: `from ${who} on ${path}` }, options);
            break;
          case "subscribe": {
            const stop = new AbortController();
            for await (const _ of c.subscribe({ room }, { ...options, signal: stop.signal })) break;
            stop.abort();
            break;
          }
          case "chat": {
            const stop = new AbortController();
            const requests = (async function* () {
              yield { action: { case: "join" as const, value: { room } } };
              await new Promise((resolve) => stop.signal.addEventListener("abort", resolve));
            })();
            for await (const _ of c.chat(requests, { ...options, signal: stop.signal })) break;
            stop.abort();
            break;
          }
          case "members":
            await c.listMembers({ room }, options);
            break;
          case "typing":
            await c.setTyping({ room }, options);
            break;
          case "mark-read":
            await c.markRead({ room, seq: 0n }, options);
            break;
          case "leave":
            await c.leaveRoom({ room }, options);
            break;
          case "join":
            await c.joinRoom({ room }, options);
            break;
          case "listener":
            await c.listener(
              (async function* () {
                yield { room, text: `streamed by ${who} on ${path}` };
              })(),
              options,
            );
            break;
          case "list": {
            const listed = (await c.listRooms({}, options)).rooms.some((r) => r.room === room);
            const mine = (await c.listMyRooms({}, options)).rooms.some((r) => r.room === room);
            return `ListRooms ${listed ? "lists" : "hides"} it, ListMyRooms ${mine ? "lists" : "hides"} it`;
          }
        }
        return "ok";
      } catch (error) {
        const e = ConnectError.from(error);
        return hide(`${Code[e.code]}: ${e.rawMessage}`);
      }
    }

    /** What a non-participant gets for `op`, and what a participant gets. */
    const refused = (op: Op) =>
      op === "list"
        ? "ListRooms hides it, ListMyRooms hides it"
        : "NotFound: conversation <id> not found";
    const allowed = (op: Op) => (op === "list" ? "ListRooms hides it, ListMyRooms lists it" : "ok");
    const seen: string[] = [];
    for (const path of PATHS) {
      it(`${path}: a non-participant gets the answer for a missing conversation; a participant gets ok`, async () => {
        for (const op of opsOf(path)) {
          const existing = await attempt(path, op, "eve", dm);
          const none = await attempt(path, op, "eve", missing);
          expect({ op, existing, none }).toEqual({ op, existing: refused(op), none: refused(op) });
          // The missing one is missing for ann too.
          const annMissing = await attempt(path, op, "ann", missing);
          expect({ op, got: annMissing }).toEqual({ op, got: refused(op) });
          const annDm = await attempt(path, op, "ann", dm);
          expect({ op, got: annDm }).toEqual({ op, got: allowed(op) });
          seen.push(`| ${path} | ${op} | ${existing} | ${none} | ${annDm} |`);
        }
      });
    }

    it("printed the matrix", () => {
      console.log(
        [
          `${mode.name} server:`,
          "| path | access | non-participant, existing | non-participant, missing | participant |",
          "|---|---|---|---|---|",
          ...seen,
        ].join("\n"),
      );
      expect(seen.length).toBeGreaterThan(0);
    });

    it("lists: ListRooms shows no conversation to anyone; ListMyRooms shows it to its participants only", async () => {
      for (const who of ["ann", "bob", "eve"]) {
        const rooms = await chatClient(server.url).listRooms({}, bearer(who));
        expect(rooms.rooms.filter((r) => r.room.startsWith("dm."))).toEqual([]);
      }
      const mine = async (who: string) =>
        (await chatClient(server.url).listMyRooms({}, bearer(who))).rooms.map((r) => r.room);
      expect(await mine("ann")).toEqual([dm]);
      expect(await mine("bob")).toEqual([dm]);
      expect(await mine("eve")).toEqual([]);
    });

    it("stored nothing of the refusals: only the participants' posts, and the missing one never opened", async () => {
      const page = await chatClient(server.url).history({ room: dm, limit: 1000 }, bearer("bob"));
      const authors = new Set(page.messages.map((m) => m.author));
      expect([...authors].sort()).toEqual(["ann", "bob"]);
      const sends = PATHS.filter((p) => p !== "sse").length + STREAMING.length;
      expect(page.messages).toHaveLength(1 + sends);
      // Opening the missing one now creates it, empty.
      const opened = await chatClient(server.url).openConversation(
        { participants: ["nobody-ever"] },
        bearer("ann"),
      );
      expect([opened.created, opened.conversation?.lastSeq]).toEqual([true, 0n]);
    });
  });
}
