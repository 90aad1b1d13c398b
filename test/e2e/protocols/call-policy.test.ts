import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { CallPolicy } from "../../../src/calls/call-policy.js";
import { type ParleyServer, startParley } from "../../../src/server/parley-server.js";
import { MemoryLog } from "../../../src/store/memory-log.js";
import type { NewMessage } from "../../../src/store/message-log.js";
import { capturedLogger } from "../../helpers/log-lines.js";
import { openSse } from "../../helpers/sse-client.js";
import {
  chatClient,
  startTestServer,
  type TransportName,
  testConfig,
} from "../../helpers/test-server.js";

// Every call passes one call-policy chain, whatever its protocol and path.
// A policy that refuses calls carrying `x-refuse` must refuse them on every
// protocol, path and encoding, and the refused calls must change nothing.

const REFUSAL = "refused by the test policy";
const seen: string[] = [];
const refuseMarked: CallPolicy = {
  admit(call) {
    seen.push(`${call.method.name} ${call.protocol} ${call.encoding} ${call.adapter}`);
    if (call.header("x-refuse") !== undefined) {
      throw new ConnectError(REFUSAL, Code.PermissionDenied);
    }
  },
};

describe("one call-policy chain on every protocol and path", () => {
  let server: ParleyServer;
  beforeAll(async () => {
    server = await startTestServer({}, { policies: [refuseMarked] });
  });
  afterAll(() => server.stop());

  const refused = { headers: { "x-refuse": "1" } };
  const clients: [string, TransportName | "json", string][] = [
    ["Connect", "connect-h1", "Send connect proto connect"],
    ["gRPC (the direct path)", "grpc-h2", "Send grpc proto direct"],
    ["gRPC-Web", "grpcweb-h1", "Send grpc-web proto connect"],
    ["JSON", "json", "Send connect json connect"],
  ];
  it.each(clients)(
    "%s: a refused Send is PERMISSION_DENIED and stores nothing",
    async (_, name, expected) => {
      const client =
        name === "json"
          ? createClient(
              ChatService,
              createConnectTransport({
                baseUrl: server.url,
                httpVersion: "1.1",
                useBinaryFormat: false,
              }),
            )
          : chatClient(server.url, name);
      const room = `refused-${name}`;
      seen.length = 0;
      const error = await client.send({ room, author: "ann", text: "hi" }, refused).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect([error?.code, error?.rawMessage]).toEqual([Code.PermissionDenied, REFUSAL]);
      expect(seen).toEqual([expected]);
      expect((await client.history({ room })).messages).toEqual([]);
      // The same call without the mark goes through, on the same path.
      seen.length = 0;
      const sent = await client.send({ room, author: "ann", text: "hi" });
      expect(sent.message?.seq).toBe(1n);
      expect(seen).toEqual([expected]);
    },
  );

  it("gRPC: a refused Subscribe on the direct path never joins the room", async () => {
    const client = chatClient(server.url, "grpc-h2");
    seen.length = 0;
    const stream = client.subscribe({ room: "refused-sub", author: "zed" }, refused);
    const error = await (async () => {
      for await (const _ of stream) return undefined;
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect([error?.code, error?.rawMessage]).toEqual([Code.PermissionDenied, REFUSAL]);
    expect(seen).toEqual(["Subscribe grpc proto direct"]);
    expect((await client.listMembers({ room: "refused-sub" })).members).toEqual([]);
  });

  it("SSE: a refused stream is an HTTP 403 with Connect's JSON error body", async () => {
    seen.length = 0;
    const stream = await openSse(`${server.url}/rooms/refused-sse/events`, { "x-refuse": "1" });
    expect(stream.status).toBe(403);
    stream.close();
    expect(seen).toEqual(["Subscribe sse json sse"]);
    const open = await openSse(`${server.url}/rooms/refused-sse/events`);
    expect(open.status).toBe(200);
    open.close();
  });

  it("health and reflection pass the chain too", async () => {
    seen.length = 0;
    const { createGrpcTransport } = await import("@connectrpc/connect-node");
    const { Health } = await import("../../../gen/health/v1/health_pb.js");
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const error = await health.check({ service: "" }, refused).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.PermissionDenied);
    expect(seen).toEqual(["Check grpc proto connect"]);
  });
});

describe("the request log", () => {
  /** The room "store-fails" fails as a broken driver would: a plain Error with internal text. */
  class FailingLog extends MemoryLog {
    override append(room: string, message: NewMessage) {
      if (room === "store-fails")
        return Promise.reject(new Error("disk /var/lib/parley is on fire"));
      return super.append(room, message);
    }
  }
  const { logger, lines } = capturedLogger();
  let server: ParleyServer;
  beforeAll(async () => {
    server = await startParley(testConfig({ logLevel: "debug" }), logger, {
      log: new FailingLog({ retention: 100 }),
    });
  });
  afterAll(() => server.stop());

  const callLines = (requestId: string) => lines.filter((l) => l.requestId === requestId);

  it.each(["grpc-h2", "connect-h1", "grpcweb-h2"] as const)(
    "%s: one line per finished call: debug for OK, info for a client error, error with the cause for INTERNAL",
    async (name) => {
      const client = chatClient(server.url, name);
      const path = name === "grpc-h2" ? "direct" : "connect";
      const protocol = { "grpc-h2": "grpc", "connect-h1": "connect", "grpcweb-h2": "grpc-web" }[
        name
      ];
      await client.send(
        { room: "log", author: "ann", text: "hi" },
        { headers: { "x-request-id": `ok-${name}` } },
      );
      await client
        .send(
          { room: "Bad Room", author: "ann", text: "hi" },
          { headers: { "x-request-id": `bad-${name}` } },
        )
        .catch(() => undefined);
      const internal = await client
        .send(
          { room: "store-fails", author: "ann", text: "hi" },
          { headers: { "x-request-id": `fail-${name}` } },
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect([internal?.code, internal?.rawMessage]).toEqual([Code.Internal, "internal error"]);
      await new Promise((resolve) => setTimeout(resolve, 50));

      const common = { method: "chat.v1.ChatService/Send", protocol, path, encoding: "proto" };
      expect(callLines(`ok-${name}`)).toEqual([
        expect.objectContaining({ ...common, level: 20, code: "ok", msg: "call" }),
      ]);
      expect(callLines(`bad-${name}`)).toEqual([
        expect.objectContaining({
          ...common,
          level: 30,
          code: "invalid_argument",
          msg: "call failed",
        }),
      ]);
      const [failed] = callLines(`fail-${name}`);
      expect(failed).toEqual(
        expect.objectContaining({
          ...common,
          level: 50,
          code: "internal",
          message: "internal error",
        }),
      );
      expect(failed?.err).toEqual(
        expect.objectContaining({ message: "disk /var/lib/parley is on fire" }),
      );
      for (const line of [...callLines(`ok-${name}`), failed]) {
        expect(typeof line?.durationMs).toBe("number");
        expect(line?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      }
    },
  );

  it.each(["connect-h1", "grpcweb-h1", "grpc-h2"] as const)(
    "%s: a stream refused after it started logs its code (read from the end of the stream)",
    async (name) => {
      const client = chatClient(server.url, name);
      const requestId = `stream-${name}`;
      const error = await (async () => {
        for await (const _ of client.subscribe(
          { room: "log-stream", sinceSeq: 99n },
          { headers: { "x-request-id": requestId } },
        )) {
          // refused before the first response
        }
      })().then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.OutOfRange);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(callLines(requestId)).toEqual([
        expect.objectContaining({
          method: "chat.v1.ChatService/Subscribe",
          level: 30,
          code: "out_of_range",
        }),
      ]);
    },
  );

  it.each(["connect-h1", "grpcweb-h1", "connect-h2"] as const)(
    "%s: a call refused before its handler runs (too big) logs the code its answer carried",
    async (name) => {
      const client = chatClient(server.url, name);
      const requestId = `big-${name}`;
      const error = await client
        .send(
          { room: "log", author: "ann", text: "x".repeat(70_000) },
          { headers: { "x-request-id": requestId } },
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(error?.code).toBe(Code.ResourceExhausted);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(callLines(requestId)).toEqual([
        expect.objectContaining({ level: 30, code: "resource_exhausted" }),
      ]);
    },
  );

  it.each(["connect-h1", "grpcweb-h1", "grpc-h2"] as const)(
    "%s: a subscription the client cancels logs at debug as canceled, not as a failure",
    async (name) => {
      const client = chatClient(server.url, name);
      const requestId = `cancel-${name}`;
      const stop = new AbortController();
      await (async () => {
        for await (const response of client.subscribe(
          { room: "log-cancel", author: "ann" },
          { headers: { "x-request-id": requestId }, signal: stop.signal },
        )) {
          // The client goes away once the stream is live, as a closed tab does.
          if (response.events.some((e) => e.event.case === "ready")) stop.abort();
        }
      })().catch(() => undefined);
      // The server notices the hang-up when its side of the stream closes.
      for (let i = 0; i < 100 && callLines(requestId).length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(callLines(requestId)).toEqual([
        expect.objectContaining({
          method: "chat.v1.ChatService/Subscribe",
          level: 20,
          code: "canceled",
          msg: "call canceled",
        }),
      ]);
    },
  );
});
