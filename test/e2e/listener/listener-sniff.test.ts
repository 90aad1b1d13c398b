import { afterEach, expect, it } from "vitest";
import { listenOnePort, type OnePortServer } from "../../../src/server/one-port.js";
import { closedAfter, connectRaw, getHttp1, getHttp2 } from "../../helpers/raw-socket.js";

const servers: OnePortServer[] = [];

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.stopAccepting();
    s.destroyAll();
  }
});

/** A listener whose handler answers "ok <path>", with a short sniff timeout. */
async function listen(sniffTimeoutMs: number): Promise<OnePortServer> {
  const server = await listenOnePort(
    (req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`ok ${req.url}`);
    },
    { port: 0, host: "127.0.0.1", pingIntervalMs: 60_000, sniffTimeoutMs },
  );
  servers.push(server);
  return server;
}

async function expectServing(server: OnePortServer): Promise<void> {
  const origin = `http://127.0.0.1:${server.port}`;
  expect(await getHttp1(`${origin}/h1`)).toEqual({ status: 200, body: "ok /h1" });
  expect(await getHttp2(origin, "/h2")).toEqual({ status: 200, body: "ok /h2" });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

it("closes a socket that sends nothing once the sniff timeout passes, and serves others meanwhile", async () => {
  const server = await listen(400);
  const silent = await connectRaw(server.port);
  const closed = closedAfter(silent);
  await expectServing(server);
  expect(silent.destroyed).toBe(false);
  const ms = await closed;
  expect(ms).toBeGreaterThanOrEqual(300);
  await until(() => server.openConnections === 0);
  await expectServing(server);
});

it("closes a socket that sends only part of the HTTP/2 preface", async () => {
  const server = await listen(300);
  const partial = await connectRaw(server.port);
  const closed = closedAfter(partial);
  partial.write("PRI * HTTP/2.0\r\n");
  await closed;
  await until(() => server.openConnections === 0);
  await expectServing(server);
});

it("survives a TCP reset while sniffing, and just after the hand-over to either server", async () => {
  const server = await listen(10_000);
  const handedToH2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const handedToH1 = "GET / HTTP/1.1\r\nHo";
  for (const firstBytes of ["", "PRI * HT", handedToH2, handedToH1]) {
    const socket = await connectRaw(server.port);
    socket.on("error", () => {});
    if (firstBytes) socket.write(firstBytes);
    await until(() => server.openConnections === 1);
    // Give the bytes time to arrive, so the reset lands mid-sniff.
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.resetAndDestroy();
    await until(() => server.openConnections === 0);
  }
  await expectServing(server);
});

it("closes sockets still being sniffed at once when draining", async () => {
  const server = await listen(10_000);
  const silent = await connectRaw(server.port);
  const closed = closedAfter(silent);
  await until(() => server.openConnections === 1);
  server.drain();
  // Well before the sniff timeout (10 s).
  expect(await closed).toBeLessThan(5000);
  await until(() => server.openConnections === 0);
});
