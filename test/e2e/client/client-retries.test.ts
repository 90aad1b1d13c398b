import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import {
  createParleyClient,
  createParleyClientWith,
  type ParleyClientCoreOptions,
  type Protocol,
} from "../../../src/client/index.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { freePort } from "../../helpers/free-port.js";

// Real connections that really break: a stub ChatService on a real HTTP/2 or
// HTTP/1.1 listener (connect-node's adapter) whose handler can cut every
// open connection, so the client sees what connect-node reports for a dying
// server (CANCELED over HTTP/2, ABORTED with ECONNRESET over HTTP/1.1) and
// must retry it, while a status the server sends (INTERNAL) is not retried.

const onCleanup = cleanupAfterEach();

async function stubServer(
  httpVersion: "1.1" | "2",
  service: Partial<ServiceImpl<typeof ChatService>>,
  refuseStreams = 0,
) {
  const sockets = new Set<Socket>();
  const adapter = connectNodeAdapter({ routes: (router) => router.service(ChatService, service) });
  let refused = 0;
  // The first `refuseStreams` HTTP/2 calls are reset with REFUSED_STREAM, as
  // a server does with calls that arrive after its GOAWAY.
  const handler: typeof adapter = (req, res) => {
    if ("stream" in req && refused < refuseStreams) {
      refused++;
      req.stream.on("error", () => {});
      req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    adapter(req, res);
  };
  const server = httpVersion === "2" ? http2.createServer(handler) : http.createServer(handler);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Destroy every open connection, as a killed server would. */
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    /** Stop listening and drop every connection: the port refuses from now on. */
    stop: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const hang = () => new Promise<never>(() => {});

const transports: [string, Protocol, "1.1" | "2"][] = [
  ["connect over HTTP/2", "connect", "2"],
  ["gRPC", "grpc", "2"],
  ["connect over HTTP/1.1", "connect", "1.1"],
  ["gRPC-Web over HTTP/1.1", "grpcweb", "1.1"],
];

describe.each(transports)("%s", (_name, protocol, httpVersion) => {
  const clientFor = (baseUrl: string) =>
    createParleyClient({
      baseUrl,
      protocol,
      httpVersion,
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
    });

  it("a send whose connection dies is sent again with the same key until it is answered", async () => {
    const keys: string[] = [];
    const server = await stubServer(httpVersion, {
      async send(req) {
        keys.push(req.clientMessageId);
        if (keys.length <= 2) {
          server.cut();
          await hang();
        }
        return { message: { room: req.room, seq: 1n, text: req.text } };
      },
    });
    const message = await clientFor(server.url).send("r", "ann", "hi", { clientMessageId: "k" });
    expect(message.seq).toBe(1n);
    expect(keys).toEqual(["k", "k", "k"]);
  });

  it("INTERNAL from the server is one call", async () => {
    let calls = 0;
    const server = await stubServer(httpVersion, {
      send() {
        calls++;
        throw new ConnectError("store failed", Code.Internal);
      },
    });
    await expect(clientFor(server.url).send("r", "ann", "hi")).rejects.toMatchObject({
      code: Code.Internal,
      rawMessage: "store failed",
    });
    expect(calls).toBe(1);
  });

  it("a subscription whose connection dies resumes from its last seq", async () => {
    const since: (bigint | undefined)[] = [];
    const server = await stubServer(httpVersion, {
      async *subscribe(req) {
        since.push(req.sinceSeq);
        const last = req.sinceSeq ?? 0n;
        yield { events: [{ event: { case: "ready", value: { epoch: "e", lastSeq: 2n } } }] };
        yield { events: [{ event: { case: "message", value: { seq: last + 1n } } }] };
        if (since.length === 1) {
          // Let the response leave before the connection goes.
          await new Promise((resolve) => setTimeout(resolve, 50));
          server.cut();
        }
        await hang();
      },
    });
    const seqs: bigint[] = [];
    const stop = new AbortController();
    onCleanup(() => stop.abort());
    for await (const e of clientFor(server.url).subscribe("r", {
      sinceSeq: 0n,
      signal: stop.signal,
    })) {
      if (e.event.case === "message") seqs.push(e.event.value.seq);
      if (seqs.length === 2) break;
    }
    expect(seqs).toEqual([1n, 2n]);
    expect(since).toEqual([0n, 1n]);
  });
});

it.each([
  ["connect", "connect"],
  ["gRPC", "grpc"],
] as const)(
  "%s over HTTP/2: a stream the server refuses (REFUSED_STREAM) is sent again",
  async (_name, protocol) => {
    let calls = 0;
    const server = await stubServer(
      "2",
      {
        send: (req) => {
          calls++;
          return { message: { room: req.room, seq: 1n, text: req.text } };
        },
      },
      2,
    );
    const client = createParleyClient({
      baseUrl: server.url,
      protocol,
      backoff: { initialDelayMs: 1, maxDelayMs: 2 },
    });
    expect((await client.send("r", "ann", "hi")).seq).toBe(1n);
    expect(calls).toBe(1);
  },
);

describe("connection refused (issue 14, point 7)", () => {
  /** A client whose every attempt (a call through the transport) is counted. */
  function counted(baseUrl: string, options: Partial<ParleyClientCoreOptions> = {}) {
    let attempts = 0;
    const transport = createConnectTransport({
      baseUrl,
      httpVersion: "2",
      interceptors: [
        (next) => (req) => {
          attempts++;
          return next(req);
        },
      ],
    });
    const client = createParleyClientWith({
      transport,
      backoff: { initialDelayMs: 1, maxDelayMs: 2 },
      ...options,
    });
    return { client, attempts: () => attempts };
  }

  it("with failFastWhenUnreachable, a first call that finds nothing listening is one attempt", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { client, attempts } = counted(url, { failFastWhenUnreachable: true, sendAttempts: 5 });
    await expect(client.send("r", "ann", "hi")).rejects.toMatchObject({ code: Code.Unavailable });
    expect(attempts()).toBe(1);
    let failure: unknown;
    try {
      for await (const _ of client.subscribe("r")) {
        // refused before the first event
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({ code: Code.Unavailable });
    expect(attempts()).toBe(2);
  });

  it("without it (the library's default), a refused send is tried sendAttempts times", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { client, attempts } = counted(url, { sendAttempts: 5 });
    await expect(client.send("r", "ann", "hi")).rejects.toMatchObject({ code: Code.Unavailable });
    expect(attempts()).toBe(5);
  });

  it("once the server has answered, a refusal is a restart and is retried even with failFastWhenUnreachable", async () => {
    const server = await stubServer("2", {
      send: (req) => ({ message: { room: req.room, seq: 1n, text: req.text } }),
    });
    const { client, attempts } = counted(server.url, {
      failFastWhenUnreachable: true,
      sendAttempts: 3,
    });
    expect((await client.send("r", "ann", "first")).seq).toBe(1n);
    await server.stop();
    await expect(client.send("r", "ann", "second")).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    expect(attempts()).toBe(1 + 3);
  });
});
