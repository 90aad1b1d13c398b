import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService, type RoomEvent } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { messageSeqs, readUntil } from "../../helpers/streams.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// Binary clients get responses assembled from pre-encoded event bytes; JSON
// clients must still get every event, encoded as JSON by connect.

let server: ParleyServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const JSON_TRANSPORTS = {
  "connect+json over HTTP/1.1": () =>
    createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false }),
  "connect+json over HTTP/2": () =>
    createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: false }),
  "grpc+json": () => createGrpcTransport({ baseUrl: server.url, useBinaryFormat: false }),
  "grpc-web+json": () =>
    createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false }),
};

const texts = (events: RoomEvent[]) =>
  events.flatMap((e) => (e.event.case === "message" ? [e.event.value.text] : []));

describe("JSON-format clients", () => {
  for (const [name, transport] of Object.entries(JSON_TRANSPORTS)) {
    it(`get ready, replayed and live events on Subscribe (${name})`, async () => {
      const room = `json-${name.replace(/[^a-z0-9]+/g, "-")}`;
      const sender = chatClient(server.url);
      await sender.send({ room, author: "ann", text: "stored one" });
      await sender.send({ room, author: "ann", text: "stored two" });

      const abort = new AbortController();
      const it = createClient(ChatService, transport())
        .subscribe({ room, sinceSeq: 0n, author: "json" }, { signal: abort.signal })
        [Symbol.asyncIterator]();
      const start = await readUntil(it, (seen) => messageSeqs(seen).length === 2);
      expect(start[0]?.event.case).toBe("ready");
      expect(start[0]?.event.case === "ready" && start[0].event.value.lastSeq).toBe(2n);
      expect(texts(start)).toEqual(["stored one", "stored two"]);

      await sender.send({ room, author: "ann", text: "live three" });
      const live = await readUntil(it, (seen) => messageSeqs(seen).length === 1);
      expect(messageSeqs(live)).toEqual([3]);
      expect(texts(live)).toEqual(["live three"]);
      const m = live.find((e) => e.event.case === "message");
      expect(m?.event.case === "message" && m.event.value.author).toBe("ann");
      abort.abort();
    });
  }

  it("get their own posts back on Chat (grpc+json)", async () => {
    const room = "json-chat";
    const client = createClient(
      ChatService,
      createGrpcTransport({ baseUrl: server.url, useBinaryFormat: false }),
    );
    const abort = new AbortController();
    async function* requests() {
      yield { action: { case: "join" as const, value: { room, author: "jo" } } };
      yield { action: { case: "post" as const, value: { text: "over json" } } };
      await new Promise((resolve) => abort.signal.addEventListener("abort", resolve));
    }
    const it = client.chat(requests(), { signal: abort.signal })[Symbol.asyncIterator]();
    const seen = await readUntil(it, (s) => messageSeqs(s).length === 1);
    expect(seen[0]?.event.case).toBe("ready");
    expect(texts(seen)).toEqual(["over json"]);
    abort.abort();
  });
});
