import {
  decodeWsFrame,
  encodeWsCredit,
  encodeWsFrame,
  encodeWsJsonFrame,
  WS_DEFAULT_RESPONSE_CREDIT,
  WS_PATH,
  WS_SUBPROTOCOL,
  WsFrameType,
} from "../../src/wire/ws-frames.js";
import { connectRawWs, type RawWs } from "./raw-ws.js";
import { WS_PING, WsFrameReader } from "./ws-frame-reader.js";

/** What a load generator hears on a Parley WebSocket, per call. */
export interface ParleyWsHandlers {
  /** HEADERS: the call was admitted. */
  onHeaders?(id: number): void;
  /** A response MESSAGE (its protobuf bytes, a view valid during the call). */
  onMessage?(id: number, payload: Buffer): void;
  /** END: `ok` unless it carried an error (`end` is its JSON). */
  onEnd?(id: number, ok: boolean, end: string): void;
  /** The socket closed. */
  onClose?(): void;
}

/** One Parley WebSocket (subprotocol parley.v1) as a load generator drives it. */
export interface ParleyWs {
  /** Open call `id` (above every id opened before) on `method` ("Echo", "Subscribe", "Send"). */
  open(id: number, method: string): void;
  /** One request MESSAGE. */
  message(id: number, bytes: Uint8Array): void;
  /** OPEN, one MESSAGE and HALF_CLOSE, in one write: a unary or server-streaming call. */
  call(id: number, method: string, bytes: Uint8Array): void;
  close(): void;
}

/**
 * A Parley WebSocket spoken with no client library, frame by frame as
 * docs/protocols.md#websocket documents it (frames from src/wire/ws-frames.ts).
 * Each call takes the default response credit and grants it back in halves
 * as its MESSAGEs arrive, as @parley/client does; pings are answered. The
 * token of the job, if any, goes in each OPEN's headers.
 */
export async function connectParleyWs(
  port: number,
  token: string | undefined,
  on: ParleyWsHandlers,
): Promise<ParleyWs> {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const unread = new Map<number, number>();
  const grantAt = WS_DEFAULT_RESPONSE_CREDIT / 2;
  const decoder = new TextDecoder();
  const reader = new WsFrameReader((opcode, payload) => {
    if (opcode === WS_PING) {
      raw?.pong(payload);
      return;
    }
    const frame = decodeWsFrame(payload);
    if (frame === undefined) return;
    const { type, callId: id } = frame;
    if (type === WsFrameType.responseMessage) {
      const n = (unread.get(id) ?? 0) + 1;
      if (n >= grantAt) {
        raw?.send(encodeWsCredit(id, n));
        unread.set(id, 0);
      } else unread.set(id, n);
      on.onMessage?.(id, frame.payload as Buffer);
    } else if (type === WsFrameType.headers) on.onHeaders?.(id);
    else if (type === WsFrameType.end) {
      unread.delete(id);
      const end = decoder.decode(frame.payload);
      on.onEnd?.(id, !end.includes('"error"'), end);
    }
  });
  // Set from the first bytes on: a ping may come with the handshake's answer.
  let raw: RawWs | undefined;
  const connected = await connectRawWs(
    port,
    WS_PATH,
    (chunk, ws) => {
      raw = ws;
      reader.feed(chunk);
    },
    () => on.onClose?.(),
    WS_SUBPROTOCOL,
  );
  const openFrame = (id: number, method: string) =>
    encodeWsJsonFrame(WsFrameType.open, id, {
      method: `/chat.v1.ChatService/${method}`,
      ...(headers ? { headers } : {}),
    });
  return {
    open: (id, method) => connected.send(openFrame(id, method)),
    message: (id, bytes) => connected.send(encodeWsFrame(WsFrameType.message, id, bytes)),
    call(id, method, bytes) {
      connected.sendMany([
        openFrame(id, method),
        encodeWsFrame(WsFrameType.message, id, bytes),
        encodeWsFrame(WsFrameType.halfClose, id),
      ]);
    },
    close: () => connected.close(),
  };
}
