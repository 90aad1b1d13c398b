import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { closedAfter, connectRaw } from "../../helpers/raw-socket.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// `curl --http2 http://…` asks to upgrade to h2c on every request. Since the
// WebSocket endpoint listens for upgrades, Node hands every such request to
// it; the server must still answer the request over HTTP/1.1, body included,
// as it did before the endpoint existed (RFC 9110 lets it ignore Upgrade).

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const H2C = {
  connection: "Upgrade, HTTP2-Settings",
  upgrade: "h2c",
  "http2-settings": "AAMAAABkAAQCAAAAAAIAAAAA",
};

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/**
 * One request on a new connection, its body written in two parts with a
 * pause between (so the server reads it from the socket, not only from the
 * bytes that came with the headers).
 */
function request(path: string, headers: Record<string, string>, body = ""): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${server.url}${path}`,
      {
        method: body === "" ? "GET" : "POST",
        agent: false,
        // A length, unless the caller chose chunked: Node would chunk a body written in parts.
        headers: headers["transfer-encoding"]
          ? headers
          : { "content-length": String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }),
        );
      },
    );
    req.on("error", reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    setTimeout(() => req.end(body.slice(half)), 30);
  });
}

const json = { "content-type": "application/json" };

describe("a request that asks to upgrade to h2c is served over HTTP/1.1", () => {
  it("a unary call with a body, the body split across packets, is answered and stored once", async () => {
    const body = JSON.stringify({ room: "upgrade", author: "ann", text: "hi" });
    const answer = await request("/chat.v1.ChatService/Send", { ...H2C, ...json }, body);
    expect(answer.status).toBe(200);
    expect(answer.connection).toBe("close");
    expect(JSON.parse(answer.body).message).toMatchObject({ seq: "1", author: "ann", text: "hi" });
    const history = await chatClient(server.url).history({ room: "upgrade" });
    expect(history.messages.map((m) => [m.seq, m.author, m.text])).toEqual([[1n, "ann", "hi"]]);
  });

  it("a GET without a body is answered", async () => {
    const plain = await request("/nowhere", {});
    const upgrading = await request("/nowhere", H2C);
    expect(upgrading).toEqual({ ...plain, connection: "close" });
    expect(plain.status).toBe(404);
  });

  it("a body over the message limit gets connect's own refusal, and nothing is stored", async () => {
    const text = "x".repeat(70_000);
    const body = JSON.stringify({ room: "upgrade-big", author: "ann", text });
    const plain = await request("/chat.v1.ChatService/Send", json, body);
    const upgrading = await request("/chat.v1.ChatService/Send", { ...H2C, ...json }, body);
    expect(upgrading).toEqual({ ...plain, connection: "close" });
    expect(JSON.parse(upgrading.body)).toEqual({
      code: "resource_exhausted",
      message: `message size ${body.length} is larger than configured readMaxBytes 65536`,
    });
    const history = await chatClient(server.url).history({ room: "upgrade-big" });
    expect(history.messages).toEqual([]);
  });

  it("a chunked body, which cannot be read after the upgrade hand-over, is refused 400 with the reason", async () => {
    const answer = await request(
      "/chat.v1.ChatService/Send",
      { ...H2C, ...json, "transfer-encoding": "chunked" },
      "{}",
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toBe(
      'this server does not upgrade to "h2c" and cannot read a chunked body sent with an Upgrade header; send the request without Upgrade, or with Content-Length\n',
    );
  });
});

describe("a body that stops after an h2c upgrade request", () => {
  it("is cut off after --request-idle-ms, and nothing is stored", async () => {
    const idle = await startTestServer({ requestIdleMs: 300 });
    try {
      const socket = await connectRaw(Number(new URL(idle.url).port));
      const closed = closedAfter(socket);
      socket.write(
        "POST /chat.v1.ChatService/Send HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      );
      // The server closes the silent connection itself; the test's own timeout is the bound.
      expect(await closed).toBeGreaterThanOrEqual(250);
      const history = await chatClient(idle.url).history({ room: "upgrade-stalled" });
      expect(history.messages).toEqual([]);
    } finally {
      await idle.stop();
    }
  });
});
