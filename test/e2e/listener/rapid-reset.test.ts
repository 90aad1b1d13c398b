import * as http2 from "node:http2";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SendRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// The reconnecting rapid reset: a client that resets stream after stream and
// reconnects whenever a connection is ended. The budget is charged to the
// client's address (127.0.0.2 here, any loopback address is this machine),
// so the attacker is refused while a client on 127.0.0.1 is served.
const BUDGET = 200;
const REASON = `too many streams reset from 127.0.0.2 (more than ${BUDGET} in 10 s, --max-resets-per-address); connect again after 10 s without trying`;

let server: ParleyServer;
beforeEach(async () => {
  server = await startTestServer({ maxResetsPerAddress: BUDGET });
});
afterEach(async () => {
  await server.stop();
});

const SEND_FRAME = (() => {
  const body = toBinary(
    SendRequestSchema,
    create(SendRequestSchema, { room: "reset-room", author: "mallory", text: "x" }),
  );
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
})();

interface Attack {
  /** Streams opened (each HEADERS + DATA + RST_STREAM) before the GOAWAY came. */
  reset: number;
  goaway: { code: number; lastStreamId: number; reason: string };
}

/** One attacker connection from 127.0.0.2: reset Send streams until the server says GOAWAY. */
function attackOnce(port: number, limit: number): Promise<Attack> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      createConnection: () => net.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.2" }),
    });
    session.on("error", () => undefined);
    let reset = 0;
    session.once("goaway", (code: number, lastStreamId: number, data?: Buffer) => {
      session.destroy();
      resolve({ reset, goaway: { code, lastStreamId, reason: String(data ?? "") } });
    });
    session.once("close", () => reject(new Error(`closed without GOAWAY after ${reset} resets`)));
    const burst = () => {
      for (let i = 0; i < 20 && reset < limit && !session.closed && !session.destroyed; i++) {
        const stream = session.request({
          ":method": "POST",
          ":path": "/chat.v1.ChatService/Send",
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.on("error", () => undefined);
        stream.write(SEND_FRAME);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reset++;
      }
      if (reset < limit && !session.closed && !session.destroyed) setTimeout(burst, 1);
    };
    session.once("connect", burst);
  });
}

describe("the reset budget of a client address", () => {
  it("ends the connection that overspends with ENHANCE_YOUR_CALM, refuses its reconnects, and serves other addresses", async () => {
    const first = await attackOnce(server.port, 10 * BUDGET);
    expect(first.goaway.code).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(first.goaway.reason).toBe(REASON);
    expect(first.reset).toBeGreaterThan(BUDGET);

    // Reconnecting does not start a fresh budget: refused at the door, no stream processed.
    for (let i = 0; i < 3; i++) {
      const again = await attackOnce(server.port, 10 * BUDGET);
      expect(again.goaway).toEqual({
        code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
        lastStreamId: 0,
        reason: REASON,
      });
    }

    // A client on another address is served, and no reset Send was stored.
    const client = chatClient(server.url, "grpc-h2");
    const sent = await client.send({ room: "reset-room", author: "ann", text: "still here" });
    expect(sent.message?.seq).toBe(1n);
    const history = await client.history({ room: "reset-room" });
    expect(history.messages.map((m) => [m.seq, m.author, m.text])).toEqual([
      [1n, "ann", "still here"],
    ]);
  }, 60_000);

  it("leaves a client that cancels within its budget alone", async () => {
    const within = await Promise.race([
      attackOnce(server.port, BUDGET - 10).then(() => "GOAWAY"),
      new Promise<string>((resolve) => setTimeout(() => resolve("no GOAWAY in 2 s"), 2000)),
    ]);
    expect(within).toBe("no GOAWAY in 2 s");
  });
});
