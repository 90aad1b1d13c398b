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

  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: WebSocketConstructor,
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

  /** Close the socket; its calls fail with CANCELED. */
  close(): void {
    this.socket?.close(1000, "client closed");
  }

  private connect(): Promise<WebSocketLike> {
    if (this.socket !== undefined && this.socket.readyState === OPEN) {
      return Promise.resolve(this.socket);
    }
    this.opening ??= new Promise<WebSocketLike>((resolve, reject) => {
      const socket = new this.WebSocketImpl(this.url, [WS_SUBPROTOCOL]);
      socket.binaryType = "arraybuffer";
      let opened = false;
      socket.addEventListener("open", () => {
        opened = true;
        this.socket = socket;
        this.opening = undefined;
        resolve(socket);
      });
      socket.addEventListener("message", (event) => this.dispatch(event.data));
      socket.addEventListener("close", (event) => {
        if (this.socket === socket) this.socket = undefined;
        const error = new ConnectError(
          opened
            ? `the WebSocket to ${this.url} closed (${event.code}${event.reason ? `: ${event.reason}` : ""})`
            : `could not open a WebSocket to ${this.url} (${event.code}${event.reason ? `: ${event.reason}` : ""})`,
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

  private dispatch(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    const frame = decodeWsFrame(new Uint8Array(data));
    if (frame === undefined) return;
    this.calls.get(frame.callId)?.frame(frame.type, frame.payload);
  }
}
