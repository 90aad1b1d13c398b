import * as http2 from "node:http2";
import type * as net from "node:net";
import { afterEach, expect, it } from "vitest";
import {
  type ListenOptions,
  listenOnePort,
  type OnePortServer,
} from "../../../src/server/one-port.js";
import { FRAME, frame, getHeaders, H2_PREFACE, readFrames } from "../../helpers/h2-frames.js";
import { connectRaw, http1Get, http2Get } from "../../helpers/raw-socket.js";

const servers: OnePortServer[] = [];
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    s.stopAccepting();
    s.destroyAll();
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** "/hold" is never answered; everything else answers "ok". */
async function listen(limits: Partial<ListenOptions>): Promise<OnePortServer> {
  const server = await listenOnePort(
    (req, res) => {
      if (req.url !== "/hold") res.end("ok");
    },
    { port: 0, host: "127.0.0.1", pingIntervalMs: 60_000, ...limits },
  );
  servers.push(server);
  return server;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

/** Open an HTTP/1.1 connection that stays open (a request that is never answered). */
async function holdHttp1(port: number): Promise<net.Socket> {
  const socket = await connectRaw(port);
  sockets.push(socket);
  socket.on("error", () => {});
  socket.write("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  return socket;
}

/** What a raw HTTP/1.1 request gets back before the server closes the connection. */
async function http1Answer(port: number): Promise<string> {
  const socket = await connectRaw(port);
  let answer = "";
  socket.on("data", (d: Buffer) => {
    answer += d.toString();
  });
  socket.on("error", () => {});
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((resolve) => socket.once("close", resolve));
  return answer;
}

/** The GOAWAY a new HTTP/2 connection gets: code, last stream id and debug text. */
async function http2Goaway(port: number): Promise<[number, number, string]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const request = session.request({ ":path": "/" });
  request.on("error", () => {});
  const goaway = await new Promise<[number, number, string]>((resolve) =>
    session.once("goaway", (code, last, data) => resolve([code, last, String(data)])),
  );
  session.destroy();
  return goaway;
}

it("advertises MAX_CONCURRENT_STREAMS and refuses a stream beyond it", async () => {
  const server = await listen({ maxStreamsPerConnection: 3 });
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  const settings = await new Promise<http2.Settings>((resolve) =>
    session.once("remoteSettings", resolve),
  );
  expect(settings.maxConcurrentStreams).toBe(3);
  session.close();

  // A raw client that ignores the setting: streams 1, 3, 5 are held; opening 7
  // breaks the protocol (RFC 9113 section 5.1.2): nghttp2 reports a
  // connection error and Node destroys the session, which resets the held
  // streams and sends GOAWAY, both with the code Node destroys sessions with
  // (INTERNAL_ERROR, not the PROTOCOL_ERROR the RFC names; no debug text).
  const socket = await connectRaw(server.port);
  sockets.push(socket);
  socket.on("error", () => {});
  const frames = readFrames(socket);
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.write(Buffer.concat([H2_PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0))]));
  await until(() => frames().some((f) => f.type === FRAME.SETTINGS));
  socket.write(frame(FRAME.SETTINGS, 0x1, 0, Buffer.alloc(0)));
  socket.write(Buffer.concat([1, 3, 5, 7].map((id) => getHeaders(id, "/hold"))));
  await closed;
  const INTERNAL = http2.constants.NGHTTP2_INTERNAL_ERROR;
  expect(frames().filter((f) => f.type === FRAME.GOAWAY)).toEqual([
    { type: FRAME.GOAWAY, streamId: 0, errorCode: INTERNAL },
  ]);
  // Which held streams get their reset before the socket closes is timing.
  const resets = frames().filter((f) => f.type === FRAME.RST_STREAM);
  expect(resets.filter((f) => f.errorCode !== INTERNAL || f.streamId > 5)).toEqual([]);
  expect((await http2Get(`http://127.0.0.1:${server.port}`, "/")).body).toBe("ok");
});

it("refuses connections over the total cap, clearly, in each protocol, and admits again once one closes", async () => {
  const server = await listen({ maxConnections: 2 });
  const held = [await holdHttp1(server.port), await holdHttp1(server.port)];
  await until(() => server.openConnections === 2);
  const message = "the server is at its connection limit (2, --max-connections); try again later";
  const answer = await http1Answer(server.port);
  expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 503 Service Unavailable");
  expect(answer.endsWith(`\r\n\r\n${message}\n`)).toBe(true);
  expect(await http2Goaway(server.port)).toEqual([
    http2.constants.NGHTTP2_REFUSED_STREAM,
    0,
    message,
  ]);
  held[0]?.destroy();
  await until(() => server.openConnections === 1);
  expect((await http1Get(`http://127.0.0.1:${server.port}/`)).body).toBe("ok");
});

it("refuses connections over the per-address cap with 429 or ENHANCE_YOUR_CALM", async () => {
  const server = await listen({ maxConnectionsPerAddress: 1 });
  await holdHttp1(server.port);
  await until(() => server.openConnections === 1);
  const message = "too many connections from 127.0.0.1 (limit 1, --max-connections-per-address)";
  const answer = await http1Answer(server.port);
  expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 429 Too Many Requests");
  expect(answer.endsWith(`\r\n\r\n${message}\n`)).toBe(true);
  expect(await http2Goaway(server.port)).toEqual([
    http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
    0,
    message,
  ]);
});

it("closes a connection it sent GOAWAY(FRAME_SIZE_ERROR), which Node leaves open, by its unanswered ping", async () => {
  const server = await listen({ pingIntervalMs: 200 });
  const socket = await connectRaw(server.port);
  sockets.push(socket);
  socket.on("error", () => {});
  const frames = readFrames(socket);
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.write(Buffer.concat([H2_PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0))]));
  // A DATA frame above the default SETTINGS_MAX_FRAME_SIZE (16,384).
  socket.write(frame(FRAME.DATA, 0, 1, Buffer.alloc(20_000)));
  await closed;
  expect(frames().filter((f) => f.type === FRAME.GOAWAY)).toEqual([
    { type: FRAME.GOAWAY, streamId: 0, errorCode: http2.constants.NGHTTP2_FRAME_SIZE_ERROR },
  ]);
  await until(() => server.openConnections === 0);
  expect((await http2Get(`http://127.0.0.1:${server.port}`, "/")).body).toBe("ok");
});
