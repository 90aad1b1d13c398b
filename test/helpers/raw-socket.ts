import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";

/** Open a raw TCP connection and resolve once it is connected. */
export function connectRaw(port: number, host = "127.0.0.1"): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Resolves with the milliseconds until `socket` closes (the peer closed or reset it). */
export function closedAfter(socket: net.Socket): Promise<number> {
  const start = Date.now();
  socket.on("error", () => {});
  socket.resume();
  return new Promise((resolve) => socket.once("close", () => resolve(Date.now() - start)));
}

/** An answer: status, headers and body text. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET over HTTP/1.1 on a new connection, with extra request headers. */
export function http1Get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on("error", reject);
  });
}

/** A GET over cleartext HTTP/2 (prior knowledge) on a new connection, with extra request headers. */
export function http2Get(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    session.on("error", reject);
    const req = session.request({ ":path": path, ...headers });
    let answer: Answer = { status: 0, headers: {}, body: "" };
    req.setEncoding("utf8");
    req.on("response", (h) => {
      answer = { status: Number(h[":status"]), headers: h, body: "" };
    });
    req.on("data", (d: string) => {
      answer.body += d;
    });
    req.on("end", () => {
      session.close();
      resolve(answer);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A GET over HTTP/1.1: status and body. */
export async function getHttp1(url: string): Promise<{ status: number; body: string }> {
  const { status, body } = await http1Get(url);
  return { status, body };
}

/** A GET over cleartext HTTP/2 on a new connection: status and body. */
export async function getHttp2(
  origin: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const { status, body } = await http2Get(origin, path);
  return { status, body };
}
