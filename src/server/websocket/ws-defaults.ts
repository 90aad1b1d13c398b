import { LIMITS } from "../../limits.js";
import { WS_FRAME_HEADER_BYTES } from "../../wire/ws-frames.js";

/** The WebSocket endpoint's limits, each a server flag. */
export interface WsLimits {
  /** Open calls on one socket (--ws-max-calls). */
  maxCallsPerSocket: number;
  /** Open sockets from one client address (--ws-max-sockets-per-address). */
  maxSocketsPerAddress: number;
  /** The largest frame a client may send (--ws-max-frame-bytes). */
  maxFrameBytes: number;
  /** Bytes one socket may have waiting to be sent (--ws-max-buffer-bytes). */
  maxBufferBytes: number;
}

/**
 * The smallest --ws-max-frame-bytes: a frame carrying the largest request
 * message the contract allows, so that a message over that limit is refused
 * for its call alone (RESOURCE_EXHAUSTED) rather than closing the socket.
 */
export const WS_MIN_FRAME_BYTES = LIMITS.messageMaxBytes + WS_FRAME_HEADER_BYTES;

/** The limits' defaults, shared by the flags and in-process servers. */
export const WS_DEFAULTS: WsLimits = {
  // As HTTP/2's --max-streams-per-connection.
  maxCallsPerSocket: 1000,
  // A page needs one; tabs, a few. Many clients behind one NAT need more.
  maxSocketsPerAddress: 100,
  maxFrameBytes: 256 * 1024,
  // Room for a burst of several large event batches to every call.
  maxBufferBytes: 16 * 1024 * 1024,
};
