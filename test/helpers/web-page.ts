import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { type Browser, chromium, type Page, type Request } from "playwright-core";
import { EchoResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import { buildWeb } from "../../scripts/build-web.js";
import { CHROMIUM_ARGS, chromiumPath } from "./chromium.js";
import { freePort } from "./free-port.js";
import { type SpawnedServer, spawnServer } from "./spawn-server.js";

/** A freshly built web app served by a server on its defaults, and a Chromium to open it in. */
export interface WebRig {
  readonly server: SpawnedServer;
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * Build the web app into a temporary folder and start the server there as
 * `npm start` runs it (every flag at its default, guest sign-in and SQLite
 * in ./data included; only the port and the built app are named), then
 * launch Chromium (chromiumPath() must have found one).
 */
export async function startWebRig(label: string): Promise<WebRig> {
  const dir = mkdtempSync(join(tmpdir(), `parley-${label}-`));
  await buildWeb(join(dir, "web"));
  const port = await freePort();
  const server = await spawnServer(
    ["--port", String(port), "--web-dir", join(dir, "web")],
    {},
    undefined,
    { cwd: dir, defaults: true },
  );
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  return {
    server,
    browser,
    async close() {
      await browser.close();
      if (server.process.exitCode === null) server.process.kill("SIGKILL");
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Open `url` (with #room) in a new context, sign in as `name`, and wait until the room is live. */
export async function signIn(browser: Browser, url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.fill("#display-name", name);
  await page.click("text=Start chatting");
  await page.waitForSelector(".status[data-state=connected]");
  return page;
}

/** One WebSocket a page opened, and the calls it carried. */
export interface SocketRecord {
  url: string;
  closed: boolean;
  /** Each call's method name by call id (from its OPEN frame), in order. */
  calls: Map<number, string>;
  /** Call ids that got their END. */
  ended: Set<number>;
  /** Echo responses received: [text, seq]. */
  echoes: [string, number][];
}

/** What a page did on the network: its WebSockets (with their calls) and its HTTP requests. */
export interface NetworkLog {
  sockets: SocketRecord[];
  /** Every HTTP request: path, and whether it finished (a long-lived one has not). */
  requests: { path: string; finished: boolean }[];
}

/**
 * Record a page's network from now on: each WebSocket with the calls opened
 * on it (frames decoded as docs/protocols.md#websocket lays them out: type,
 * 4-byte call id, payload), and each HTTP request with whether it finished.
 */
export function watchNetwork(page: Page): NetworkLog {
  const log: NetworkLog = { sockets: [], requests: [] };
  page.on("websocket", (ws) => {
    const record: SocketRecord = {
      url: ws.url(),
      closed: false,
      calls: new Map(),
      ended: new Set(),
      echoes: [],
    };
    log.sockets.push(record);
    ws.on("close", () => {
      record.closed = true;
    });
    ws.on("framesent", ({ payload }) => {
      const frame = asFrame(payload);
      // A cancelled call gets no END: it is over when the page sends CANCEL.
      if (frame?.type === 0x04) record.ended.add(frame.id);
      if (frame?.type === 0x01) {
        const open = JSON.parse(new TextDecoder().decode(frame.payload)) as { method: string };
        record.calls.set(frame.id, open.method.split("/").at(-1) ?? "");
      }
    });
    ws.on("framereceived", ({ payload }) => {
      const frame = asFrame(payload);
      if (frame?.type === 0x13) record.ended.add(frame.id);
      if (frame?.type === 0x12 && record.calls.get(frame.id) === "Echo") {
        const echo = fromBinary(EchoResponseSchema, frame.payload);
        record.echoes.push([echo.text, Number(echo.seq)]);
      }
    });
  });
  const entries = new Map<Request, { path: string; finished: boolean }>();
  page.on("request", (request) => {
    const entry = { path: new URL(request.url()).pathname, finished: false };
    entries.set(request, entry);
    log.requests.push(entry);
  });
  const done = (request: Request) => {
    const entry = entries.get(request);
    if (entry) entry.finished = true;
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  return log;
}

/** The calls still open on a socket, by method: { Subscribe: 20, Chat: 1, … }. */
export function openCalls(socket: SocketRecord): Record<string, number> {
  const open: Record<string, number> = {};
  for (const [id, method] of socket.calls) {
    if (!socket.ended.has(id)) open[method] = (open[method] ?? 0) + 1;
  }
  return open;
}

function asFrame(payload: string | Buffer) {
  if (typeof payload === "string" || payload.length < 5) return undefined;
  return { type: payload[0], id: payload.readUInt32BE(1), payload: payload.subarray(5) };
}

/** The little of the DOM the page-side functions below use (this file is checked without the DOM library). */
interface PageWindow {
  DataTransfer: new () => { setData(type: string, value: string): void };
  ClipboardEvent: new (type: string, init: object) => unknown;
}
interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): { textContent: string | null } | null;
  dispatchEvent(event: unknown): boolean;
}

/** Paste `text` into the send box as a person would (a paste event with it on the clipboard). */
export async function pasteIntoComposer(page: Page, text: string): Promise<void> {
  await page.$eval(
    ".composer textarea",
    (el, pasted) => {
      const w = globalThis as unknown as PageWindow;
      const data = new w.DataTransfer();
      data.setData("text/plain", pasted);
      (el as unknown as PageElement).dispatchEvent(
        new w.ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
      );
    },
    text,
  );
}

/** [seq, author, text] of every message row, top to bottom. */
export function messageRows(page: Page) {
  return page.$$eval("[data-seq]", (els) =>
    els.map((node) => {
      const el = node as unknown as PageElement;
      return [Number(el.dataset.seq), el.dataset.author, el.querySelector(".body")?.textContent];
    }),
  );
}

/** The first WebSocket the page opened since watchNetwork (throws when it opened none). */
export function firstSocket(log: NetworkLog): SocketRecord {
  const socket = log.sockets[0];
  if (socket === undefined) throw new Error("the page opened no WebSocket");
  return socket;
}

/**
 * Call `seen` with each ChatService call the page starts and the bearer token
 * it carries, whichever way it goes: an HTTP request (fetch), or an OPEN
 * frame on the page's WebSocket (the token in its headers).
 */
export function watchCalls(page: Page, seen: (method: string, token: string | undefined) => void) {
  const bearer = (value: string | undefined) => /^Bearer (\S+)$/.exec(value ?? "")?.[1];
  page.on("request", (request) => {
    const method = /\/chat\.v1\.ChatService\/(\w+)$/.exec(request.url())?.[1];
    if (method !== undefined) seen(method, bearer(request.headers().authorization));
  });
  page.on("websocket", (ws) => {
    ws.on("framesent", ({ payload }) => {
      const frame = asFrame(payload);
      if (frame?.type !== 0x01) return;
      const open = JSON.parse(new TextDecoder().decode(frame.payload)) as {
        method: string;
        headers?: Record<string, string>;
      };
      seen(open.method.split("/").at(-1) ?? "", bearer(open.headers?.authorization));
    });
  });
}
