import * as http2 from "node:http2";
import { afterEach, expect, it } from "vitest";
import {
  type ListenOptions,
  listenOnePort,
  type OnePortServer,
} from "../../../src/server/one-port.js";
import { connectRaw, http1Get, http2Get } from "../../helpers/raw-socket.js";

const servers: OnePortServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.stopAccepting();
    s.destroyAll();
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** "/" answers ok; POST /body answers with the body; GET /ticks writes a tick every 100 ms for 1 s. */
async function listen(limits: Partial<ListenOptions>): Promise<OnePortServer> {
  const server = await listenOnePort(
    (req, res) => {
      if (req.url === "/body") {
        let body = "";
        req.on("data", (d: Buffer) => {
          body += d.toString();
        });
        req.on("end", () => res.end(`got ${body}`));
        return;
      }
      if (req.url === "/ticks") {
        res.writeHead(200);
        // Both response types have write(string); TypeScript cannot call the union.
        const write = (text: string) => (res as { write(chunk: string): boolean }).write(text);
        const timer = setInterval(() => write("tick "), 100);
        setTimeout(() => {
          clearInterval(timer);
          res.end();
        }, 1000);
        return;
      }
      res.end("ok");
    },
    { port: 0, host: "127.0.0.1", pingIntervalMs: 60_000, ...limits },
  );
  servers.push(server);
  return server;
}

async function expectServing(server: OnePortServer): Promise<void> {
  const origin = `http://127.0.0.1:${server.port}`;
  expect((await http1Get(`${origin}/`)).body).toBe("ok");
  expect((await http2Get(origin, "/")).body).toBe("ok");
}

/** Write `head`, then `text` one byte every `everyMs`; resolves with what came back once the socket closes. */
async function trickle(port: number, head: string, text: string, everyMs: number) {
  const socket = await connectRaw(port);
  let answer = "";
  socket.on("data", (d: Buffer) => {
    answer += d.toString();
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(head);
  let open = true;
  void closed.then(() => {
    open = false;
  });
  for (const ch of text) {
    if (!open) break;
    socket.write(ch);
    await sleep(everyMs);
  }
  await closed;
  return answer;
}

it("HTTP/1.1: answers 408 to headers sent a byte at a time past headersTimeout", async () => {
  const server = await listen({ headersTimeoutMs: 400 });
  const answer = await trickle(server.port, "GET / HTTP/1.1\r\n", "X-Slow: 1".repeat(50), 50);
  expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  await expectServing(server);
});

it("HTTP/1.1: answers 408 to a body sent a byte at a time past requestTimeout", async () => {
  const server = await listen({ headersTimeoutMs: 300, requestTimeoutMs: 400 });
  const answer = await trickle(
    server.port,
    "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
    "x".repeat(100),
    50,
  );
  expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  await expectServing(server);
});

it("HTTP/1.1: answers 408 and closes a connection whose request body stops coming, after requestIdleMs", async () => {
  const server = await listen({ requestIdleMs: 300 });
  const start = Date.now();
  // Three bytes of ten, then nothing: trickle with nothing more to send waits for the close.
  const answer = await trickle(
    server.port,
    "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    "",
    0,
  );
  expect(Date.now() - start).toBeGreaterThanOrEqual(250);
  const [status, ...rest] = answer.split("\r\n");
  expect([status, rest.at(-1)]).toEqual([
    "HTTP/1.1 408 Request Timeout",
    "request idle for 300 ms (--request-idle-ms): no byte came\n",
  ]);
  await expectServing(server);
});

it("HTTP/1.1: closes without a word a connection whose answer began, once it moves nothing for requestIdleMs", async () => {
  const server = await listen({ requestIdleMs: 300 });
  // /ticks answers at once and writes for 1 s: past it, idle, the socket just closes.
  const answer = await trickle(server.port, "GET /ticks HTTP/1.1\r\nHost: x\r\n\r\n", "", 0);
  expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
  expect(answer).not.toContain("408");
  await expectServing(server);
});

it("HTTP/2: resets a stream whose body stops coming, keeps the connection, and spares a busy stream", async () => {
  const server = await listen({ requestIdleMs: 300 });
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  const stalled = session.request({ ":method": "POST", ":path": "/body" });
  stalled.write("abc");
  stalled.on("error", () => {});
  // A stream that writes every 100 ms for 1 s outlives the idle limit.
  const ticks = session.request({ ":path": "/ticks" });
  let ticked = "";
  ticks.setEncoding("utf8");
  ticks.on("data", (d: string) => {
    ticked += d;
  });
  const rstCode = await new Promise((resolve) =>
    stalled.once("close", () => resolve(stalled.rstCode)),
  );
  expect(rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
  await new Promise((resolve) => ticks.once("end", resolve));
  expect(ticked.split("tick ").length).toBeGreaterThan(5);
  const again = session.request({ ":path": "/" });
  again.setEncoding("utf8");
  let body = "";
  again.on("data", (d: string) => {
    body += d;
  });
  await new Promise((resolve) => again.once("end", resolve));
  expect(body).toBe("ok");
  session.close();
});

it("HTTP/2: sends GOAWAY to a connection with no open stream for idleConnectionMs", async () => {
  const server = await listen({ idleConnectionMs: 300 });
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  const start = Date.now();
  const code = await new Promise((resolve) =>
    session.once("goaway", (errorCode) => resolve(errorCode)),
  );
  expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
  expect(Date.now() - start).toBeGreaterThanOrEqual(250);
  await new Promise((resolve) => session.once("close", resolve));
  await expectServing(server);
});
