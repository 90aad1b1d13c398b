import { once } from "node:events";
import * as net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/health/v1/health_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { startTestServer, type TransportName, transportFor } from "../../helpers/test-server.js";

const SHUTDOWN = "server is shutting down; resume from your last seq";

/** A server of its own for this test, stopped when the test ends (a no-op if the test stopped it). */
async function serverForTest(): Promise<ParleyServer> {
  const server = await startTestServer();
  onTestFinished(() => server.stop());
  return server;
}

function healthClient(server: ParleyServer, transport: TransportName = "grpc-h2") {
  return createClient(Health, transportFor(transport, server.url));
}

/** The error a stream ends with (undefined if it ends cleanly). */
async function endOf(it: AsyncIterator<unknown>): Promise<ConnectError | undefined> {
  try {
    for (;;) if ((await it.next()).done) return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

describe("grpc.health.v1.Health", () => {
  it.each<TransportName>(["grpc-h2", "connect-h1", "grpcweb-h1"])(
    "Check reports the server and the chat service SERVING (%s)",
    async (transport) => {
      const client = healthClient(await serverForTest(), transport);
      expect((await client.check({ service: "" })).status).toBe(Status.SERVING);
      expect((await client.check({ service: "chat.v1.ChatService" })).status).toBe(Status.SERVING);
    },
  );

  it("Check of an unknown service is NOT_FOUND naming it and what is known", async () => {
    const client = healthClient(await serverForTest());
    const err = await client.check({ service: "chat.v1.Nope" }).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toBe(
      'service: unknown service "chat.v1.Nope"; this server reports "", "chat.v1.ChatService"',
    );
  });

  it("List reports every known service", async () => {
    const client = healthClient(await serverForTest());
    const { statuses } = await client.list({});
    expect(Object.keys(statuses).sort()).toEqual(["", "chat.v1.ChatService"]);
    expect(Object.values(statuses).map((s) => s.status)).toEqual([Status.SERVING, Status.SERVING]);
  });

  it.each<TransportName>(["grpc-h2", "connect-h1"])(
    "Watch sends SERVING, then NOT_SERVING when the server stops, then ends UNAVAILABLE (%s)",
    async (transport) => {
      const server = await serverForTest();
      const client = healthClient(server, transport);
      const watches = ["", "chat.v1.ChatService"].map((service) =>
        client.watch({ service })[Symbol.asyncIterator](),
      );
      for (const watch of watches) {
        expect((await watch.next()).value?.status).toBe(Status.SERVING);
      }
      const stopped = server.stop();
      for (const watch of watches) {
        expect((await watch.next()).value?.status).toBe(Status.NOT_SERVING);
        const err = await endOf(watch);
        expect(err?.code).toBe(Code.Unavailable);
        expect(err?.rawMessage).toBe(SHUTDOWN);
      }
      await stopped;
    },
  );

  it("Watch of an unknown service sends SERVICE_UNKNOWN and stays open until shutdown", async () => {
    const server = await serverForTest();
    const watch = healthClient(server).watch({ service: "nope" })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(Status.SERVICE_UNKNOWN);
    const stopped = server.stop();
    const err = await endOf(watch);
    expect(err?.code).toBe(Code.Unavailable);
    await stopped;
  });

  it("Watch ends when the client cancels, without waiting for the server", async () => {
    const server = await serverForTest();
    const abort = new AbortController();
    const watch = healthClient(server)
      .watch({ service: "" }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(Status.SERVING);
    abort.abort();
    expect((await endOf(watch))?.code).toBe(Code.Canceled);
    // The server still serves: the cancelled watch changed nothing.
    expect((await healthClient(server).check({})).status).toBe(Status.SERVING);
  });

  it.each<TransportName>(["grpc-h2", "connect-h1"])(
    "Watch ends DEADLINE_EXCEEDED at its deadline, like every other stream (%s)",
    async (transport) => {
      const server = await serverForTest();
      const watch = healthClient(server, transport)
        .watch({ service: "" }, { timeoutMs: 300 })
        [Symbol.asyncIterator]();
      expect((await watch.next()).value?.status).toBe(Status.SERVING);
      expect((await endOf(watch))?.code).toBe(Code.DeadlineExceeded);
      expect((await healthClient(server).check({})).status).toBe(Status.SERVING);
    },
  );
});

describe("GET /healthz", () => {
  it("answers 200 ok as text/plain while serving (query ignored; HEAD has no body)", async () => {
    const server = await serverForTest();
    for (const path of ["/healthz", "/healthz?probe=1"]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.text()).toBe("ok\n");
    }
    const head = await fetch(`${server.url}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("3");
    expect(await head.text()).toBe("");
  });

  it("refuses other methods with 405 and Allow, and other paths with 404", async () => {
    const server = await serverForTest();
    const post = await fetch(`${server.url}/healthz`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(await post.text()).toBe("/healthz answers GET and HEAD, not POST\n");
    const other = await fetch(`${server.url}/healthz/more`);
    expect(other.status).toBe(404);
    await other.arrayBuffer();
  });

  // Once stop() begins, the listener is closed and HTTP/2 sessions get GOAWAY,
  // so the only /healthz requests a stopping server still answers arrive on
  // HTTP/1.1 connections that were busy when it began: this sends one there.
  it("answers 503 once the server is shutting down, and health Check NOT_SERVING", async () => {
    const server = await serverForTest();
    const socket = net.connect(server.port, "127.0.0.1");
    onTestFinished(() => {
      socket.destroy();
    });
    await once(socket, "connect");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    const closed = once(socket, "close");
    // A Check whose body is not complete yet keeps the connection busy.
    // "Expect: 100-continue" makes the server answer "100 Continue" as it
    // accepts the request, so we know it counts as in flight before stop().
    socket.write(
      "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: parley\r\n" +
        "Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n{",
    );
    while (!received.includes("100 Continue")) await once(socket, "data");
    const stopped = server.stop();
    // The rest of the body, and /healthz pipelined behind it.
    socket.write("}GET /healthz HTTP/1.1\r\nHost: parley\r\n\r\n");
    await closed;
    await stopped;
    const responses = received.split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(3);
    expect(responses[0]).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    expect(responses[1]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(responses[1]?.endsWith('\r\n\r\n{"status":"NOT_SERVING"}')).toBe(true);
    expect(responses[2]).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(responses[2]).toMatch(/\r\ncontent-type: text\/plain; charset=utf-8\r\n/);
    expect(responses[2]).toMatch(/\r\nConnection: close\r\n/);
    expect(responses[2]?.endsWith("\r\n\r\nshutting down\n")).toBe(true);
  });
});
