import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendRequestSchema, SubscribeRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import { AUTH_DEFAULTS } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";
import {
  connectRawWs,
  type RawWs,
  wsEchoes,
  wsHalfClose,
  wsMessage,
  wsOpen,
} from "../../helpers/ws-raw.js";

// Identity over the WebSocket (issue 18's Bad input): the token travels in
// each call's OPEN headers, so a forged, expired or missing token refuses
// that call alone, with the code and message connect gives for the same
// token on the same server, and the socket goes on serving.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
const OTHER_SECRET = "another secret of more than thirty-two bytes, forged";

let server: ParleyServer;
let socket: RawWs;
let nextId = 1;
beforeAll(async () => {
  server = await startTestServer({
    auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET) },
  });
  socket = await connectRawWs(server.url);
});
afterAll(() => {
  socket.ws.terminate();
  return server.stop();
});

const TOKENS: Record<string, () => Promise<string | undefined>> = {
  forged: () => hsToken(OTHER_SECRET, { sub: "ann" }),
  // Past the server's 30 s of allowed clock skew.
  expired: () => hsToken(SECRET, { sub: "ann", expiresInS: -120 }),
  "no token": async () => undefined,
};

const METHODS = {
  Send: {
    bytes: () =>
      toBinary(
        SendRequestSchema,
        create(SendRequestSchema, { room: "ws-identity", author: "ann", text: "hello" }),
      ),
    overConnect: (headers: Record<string, string>) =>
      chatClient(server.url).send(
        { room: "ws-identity", author: "ann", text: "hello" },
        { headers },
      ),
  },
  Subscribe: {
    bytes: () =>
      toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { room: "ws-identity" })),
    overConnect: async (headers: Record<string, string>) => {
      for await (const _ of chatClient(server.url).subscribe(
        { room: "ws-identity" },
        { headers },
      )) {
        throw new Error("a refused Subscribe got a response");
      }
    },
  },
};

/** One call on the shared raw socket; its END. */
async function overWebSocket(method: keyof typeof METHODS, headers: Record<string, string>) {
  const id = nextId++;
  socket.ws.send(wsOpen(id, method, { headers }));
  socket.ws.send(wsMessage(id, METHODS[method].bytes()));
  socket.ws.send(wsHalfClose(id));
  return socket.end(id);
}

describe("tokens in a WebSocket call's headers", () => {
  for (const [name, token] of Object.entries(TOKENS)) {
    it.each(Object.keys(METHODS) as (keyof typeof METHODS)[])(
      `${name}: %s is refused as over connect, and the socket serves on`,
      async (method) => {
        const value = await token();
        const headers: Record<string, string> =
          value === undefined ? {} : { authorization: `Bearer ${value}` };
        const connectError = await METHODS[method].overConnect(headers).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(connectError?.code).toBeDefined();
        const end = await overWebSocket(method, headers);
        expect(end).toEqual({
          error: {
            code: codeToString((connectError as ConnectError).code),
            message: (connectError as ConnectError).rawMessage,
          },
          // A call refused before it started names itself in END (docs/protocols.md).
          metadata: { "x-request-id": [expect.stringMatching(/^[0-9a-f]{8}-[0-9a-z]+$/)] },
        });
        expect(end.error?.code).toBe("unauthenticated");
        // Only the call was refused: the socket is open and answers.
        const good = await hsToken(SECRET, { sub: "ann" });
        expect(await wsEchoes(socket, nextId++, { authorization: `Bearer ${good}` })).toBe("ok");
      },
    );
  }

  it("a good token in the headers is served on the same socket, and only its message was stored", async () => {
    const end = await overWebSocket("Send", {
      authorization: `Bearer ${await hsToken(SECRET, { sub: "ann" })}`,
    });
    expect(end).toEqual({});
    const admin = await hsToken(SECRET, { sub: "ann" });
    const page = await chatClient(server.url).history(
      { room: "ws-identity" },
      { headers: { authorization: `Bearer ${admin}` } },
    );
    expect(page.messages.map((m) => [m.seq, m.author, m.text])).toEqual([[1n, "ann", "hello"]]);
  });
});
