import { Code, ConnectError } from "@connectrpc/connect";
import {
  decodeWsFrame,
  encodeWsJsonFrame,
  WS_PATH,
  WS_REQUEST_WINDOW,
  WS_SUBPROTOCOL,
  WsFrameType,
  type WsOpen,
} from "../wire/ws-frames.js";
import { type CallWriter, ClientCall } from "./ws-call.js";

/** What the transport needs of a WebSocket: the browser's API, which `ws` also offers. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  /** Node's `ws` only: send a WebSocket ping (browsers have no API for it). */
  ping?(): void;
  /** Node's `ws` only: drop the connection at once, without a close handshake. */
  terminate?(): void;
  /** Node's `ws` only: its EventEmitter, for "pong". */
  on?(event: "pong", listener: () => void): void;
}

/** A WebSocket constructor: globalThis.WebSocket in browsers, `ws`'s in Node. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

const OPEN = 1;

/** The socket URL for a server's base URL: http(s)://host/x becomes ws(s)://host/x/ws. */
export function socketUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}${WS_PATH}`;
  return url.toString();
}

/**
 * The one socket a transport's calls share. It opens on the first call and
 * after a loss; when it closes, every call on it fails with UNAVAILABLE
 * (naming the close code and reason), and the next call opens a new one.
 */
export class WsConnection {
  private socket: WebSocketLike | undefined;
  private opening: Promise<WebSocketLike> | undefined;
  private readonly calls = new Map<number, ClientCall>();
  private nextId = 1;

  /**
   * `pingIntervalMs`: where the WebSocket can ping (Node's `ws`), ping the
   * server this often and drop a socket whose pong has not come by the next
   * ping, so a server that vanished without closing (a half-open socket)
   * fails the calls on it. 0 sends no pings. Browsers cannot ping; a page's
   * resuming subscribe notices silence by the server's heartbeats instead.
   */
  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly pingIntervalMs = 0,
  ) {}

  /** Open a call: OPEN is sent once the socket is open. */
  async open(request: WsOpen & { credit: number }): Promise<ClientCall> {
    const socket = await this.connect();
    const id = this.nextId++;
    const writer: CallWriter = {
      send: (frame) => {
        if (socket.readyState !== OPEN) return false;
        socket.send(frame);
        return true;
      },
      forget: (callId) => this.calls.delete(callId),
    };
    const call = new ClientCall(id, writer, request.credit, WS_REQUEST_WINDOW);
    this.calls.set(id, call);
    writer.send(encodeWsJsonFrame(WsFrameType.open, id, request));
    return call;
  }

  /** Close the socket; its open calls fail with UNAVAILABLE, as on any lost socket. */
  close(): void {
    this.socket?.close(1000, "client closed");
  }

  /** The open socket, opening it first when there is none (UNAVAILABLE when it cannot open). */
  connect(): Promise<WebSocketLike> {
    if (this.socket !== undefined && this.socket.readyState === OPEN) {
      return Promise.resolve(this.socket);
    }
    this.opening ??= new Promise<WebSocketLike>((resolve, reject) => {
      const socket = new this.WebSocketImpl(this.url, [WS_SUBPROTOCOL]);
      socket.binaryType = "arraybuffer";
      let opened = false;
      /** Set when the socket was dropped for a missing pong: the calls' error says so. */
      let lost: string | undefined;
      let heartbeat: ReturnType<typeof setInterval> | undefined;
      socket.addEventListener("open", () => {
        opened = true;
        this.socket = socket;
        this.opening = undefined;
        heartbeat = this.startPings(socket, () => {
          lost = `no pong from the server in ${this.pingIntervalMs} ms`;
        });
        resolve(socket);
      });
      socket.addEventListener("message", (event) => this.dispatch(event.data));
      socket.addEventListener("close", (event) => {
        clearInterval(heartbeat);
        if (this.socket === socket) this.socket = undefined;
        const why = lost ?? `${event.code}${event.reason ? `: ${event.reason}` : ""}`;
        const error = new ConnectError(
          opened
            ? `the WebSocket to ${this.url} closed (${why})`
            : `could not open a WebSocket to ${this.url} (${why})`,
          Code.Unavailable,
        );
        if (!opened) {
          this.opening = undefined;
          reject(error);
        }
        for (const call of [...this.calls.values()]) call.fail(error);
        this.calls.clear();
      });
      // 'close' follows every 'error'.
      socket.addEventListener("error", () => undefined);
    });
    return this.opening;
  }

  /** Ping `socket` every pingIntervalMs; one still unanswered at the next ping is dropped. */
  private startPings(
    socket: WebSocketLike,
    onLost: () => void,
  ): ReturnType<typeof setInterval> | undefined {
    const { ping, terminate, on } = socket;
    if (
      this.pingIntervalMs <= 0 ||
      ping === undefined ||
      terminate === undefined ||
      on === undefined
    )
      return undefined;
    let awaitingPong = false;
    on.call(socket, "pong", () => {
      awaitingPong = false;
    });
    const timer = setInterval(() => {
      // `ws` throws on a ping once the socket is closing; its close is on its way.
      if (socket.readyState !== OPEN) return;
      if (!awaitingPong) {
        awaitingPong = true;
        ping.call(socket);
        return;
      }
      // A close handshake would wait on the same dead connection: drop it.
      onLost();
      terminate.call(socket);
    }, this.pingIntervalMs);
    // Pings alone do not keep a process alive.
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  private dispatch(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    const frame = decodeWsFrame(new Uint8Array(data));
    if (frame === undefined) return;
    this.calls.get(frame.callId)?.frame(frame.type, frame.payload);
  }
}
