/**
 * The frames of Parley's WebSocket protocol (subprotocol `parley.v1`,
 * docs/protocols.md#websocket). Every WebSocket message is one binary frame:
 * a type byte, a call id (unsigned 32-bit, big-endian) and a payload whose
 * layout the type fixes. Server and client library both use this module, so
 * it imports nothing and runs in browsers.
 */

/** The subprotocol both sides must name in the upgrade. */
export const WS_SUBPROTOCOL = "parley.v1";

/** The path the server takes WebSocket upgrades on. */
export const WS_PATH = "/ws";

/** Bytes before a frame's payload: type (1) and call id (4). */
export const WS_FRAME_HEADER_BYTES = 5;

/**
 * Request messages a call may send before the server grants more with a
 * CREDIT frame; both sides know it, so a client may send OPEN, MESSAGE and
 * HALF_CLOSE at once.
 */
export const WS_REQUEST_WINDOW = 16;

/** Response messages a call accepts before it grants more, when its OPEN names none. */
export const WS_DEFAULT_RESPONSE_CREDIT = 16;

/** Frame types. Client to server below 0x10, server to client from 0x11. */
export const WsFrameType = {
  /** Client: start a call. Payload: UTF-8 JSON (WsOpen). */
  open: 0x01,
  /** Client: one request message, its protobuf binary encoding. */
  message: 0x02,
  /** Client: no more request messages. Empty payload. */
  halfClose: 0x03,
  /** Client: abandon the call. Empty payload; the server sends no END for it. */
  cancel: 0x04,
  /** Either side: the peer may send this many more messages (uint32 big-endian). */
  credit: 0x05,
  /** Server: the call was admitted. Payload: UTF-8 JSON object of response headers. */
  headers: 0x11,
  /** Server: one response message, its protobuf binary encoding. */
  responseMessage: 0x12,
  /** Server: the call is over. Payload: Connect's end-stream JSON ({} for OK). */
  end: 0x13,
} as const;

/** One of the frame type bytes. */
export type WsFrameTypeByte = (typeof WsFrameType)[keyof typeof WsFrameType];

/** The payload of an OPEN frame. */
export interface WsOpen {
  /** "/package.Service/Method", as the HTTP protocols' URL path names it. */
  method: string;
  /** Request headers by lower-case name (authorization, x-request-id …). */
  headers?: Record<string, string>;
  /** The call's deadline, in ms from when the server reads the OPEN. */
  timeoutMs?: number;
  /** Response messages the client accepts before its first CREDIT (default WS_DEFAULT_RESPONSE_CREDIT). */
  credit?: number;
}

/** A frame as read off the socket. */
export interface WsFrame {
  readonly type: number;
  readonly callId: number;
  readonly payload: Uint8Array;
}

/** A frame's bytes: header then payload, in one buffer. */
export function encodeWsFrame(type: number, callId: number, payload?: Uint8Array): Uint8Array {
  const size = payload?.byteLength ?? 0;
  const out = new Uint8Array(WS_FRAME_HEADER_BYTES + size);
  if (payload !== undefined) out.set(payload, WS_FRAME_HEADER_BYTES);
  return writeWsFrameHeader(out, type, callId);
}

/**
 * Write a frame's header into the first WS_FRAME_HEADER_BYTES of `out`,
 * whose payload is already in place after them: a writer that leaves that
 * headroom gets its frame without copying the payload again.
 */
export function writeWsFrameHeader(out: Uint8Array, type: number, callId: number): Uint8Array {
  out[0] = type;
  out[1] = callId >>> 24;
  out[2] = (callId >>> 16) & 0xff;
  out[3] = (callId >>> 8) & 0xff;
  out[4] = callId & 0xff;
  return out;
}

/** A CREDIT frame granting `count` more messages. */
export function encodeWsCredit(callId: number, count: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, count);
  return encodeWsFrame(WsFrameType.credit, callId, payload);
}

/** A frame whose payload is UTF-8 JSON. */
export function encodeWsJsonFrame(type: number, callId: number, value: unknown): Uint8Array {
  return encodeWsFrame(type, callId, new TextEncoder().encode(JSON.stringify(value)));
}

/** Read a frame; undefined when it is shorter than a frame header. The payload is a view, not a copy. */
export function decodeWsFrame(bytes: Uint8Array): WsFrame | undefined {
  if (bytes.byteLength < WS_FRAME_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    type: bytes[0] as number,
    callId: view.getUint32(1),
    payload: bytes.subarray(WS_FRAME_HEADER_BYTES),
  };
}

/** A CREDIT frame's count; undefined when its payload is not exactly 4 bytes. */
export function decodeWsCredit(payload: Uint8Array): number | undefined {
  if (payload.byteLength !== 4) return undefined;
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/** Close codes the server uses (RFC 6455 section 7.4.1). */
export const WsCloseCode = {
  /** The server is shutting down: every call ended UNAVAILABLE first; reconnect elsewhere. */
  goingAway: 1001,
  /** A frame broke the protocol (too short, unknown type, a call id out of order or never opened). */
  protocolError: 1002,
  /** A text frame: the protocol is binary only. */
  unsupportedData: 1003,
  /** The socket buffered more than the server's cap (a peer that does not read). */
  policyViolation: 1008,
  /** A frame larger than the server takes (the ws library's own check). */
  messageTooBig: 1009,
} as const;
