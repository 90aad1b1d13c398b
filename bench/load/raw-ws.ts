import { randomBytes } from "node:crypto";
import * as net from "node:net";

/** A WebSocket client connection reduced to what a load generator needs. */
export interface RawWs {
  /** Send one binary message (masked with a zero key: valid, and no copying to mask). */
  send(payload: Uint8Array): void;
  /** Send several binary messages in one write. */
  sendMany(payloads: Uint8Array[]): void;
  /** Send a pong carrying `payload` (the ping's), as RFC 6455 asks of a client pinged. */
  pong(payload: Uint8Array): void;
  close(): void;
}

const BINARY = 0x82;
const PONG = 0x8a;

function frameHeader(length: number, first = BINARY): Buffer {
  // FIN + opcode; MASK bit set with a zero masking key.
  if (length < 126) return Buffer.from([first, 0x80 | length, 0, 0, 0, 0]);
  if (length < 65536)
    return Buffer.from([first, 0x80 | 126, length >> 8, length & 255, 0, 0, 0, 0]);
  const h = Buffer.alloc(14);
  h[0] = first;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

/**
 * Connect to a WebSocket server on 127.0.0.1 without a WebSocket library:
 * after the upgrade, `onData` gets the raw bytes of server frames (which are
 * unmasked, so payload bytes appear as they were sent). The `ws` client
 * parses and emits every message, which costs more CPU than the server spends
 * sending it; counting markers in the raw stream keeps the load generator
 * from being the bottleneck. `onData` also gets the socket: bytes that came
 * with the handshake's answer reach it before the promise settles. `protocol` is asked for as the subprotocol.
 */
export function connectRawWs(
  port: number,
  path: string,
  onData: (chunk: Buffer, ws: RawWs) => void,
  onClose?: () => void,
  protocol?: string,
): Promise<RawWs> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ""}\r\n`,
  );
  const ws: RawWs = {
    send(payload) {
      socket.cork();
      socket.write(frameHeader(payload.length));
      socket.write(payload);
      socket.uncork();
    },
    sendMany(payloads) {
      socket.cork();
      for (const payload of payloads) {
        socket.write(frameHeader(payload.length));
        socket.write(payload);
      }
      socket.uncork();
    },
    pong(payload) {
      socket.cork();
      socket.write(frameHeader(payload.length, PONG));
      socket.write(payload);
      socket.uncork();
    },
    close() {
      socket.destroy();
    },
  };
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onHandshake = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onHandshake);
      if (!head.subarray(0, 12).toString().includes(" 101")) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.subarray(0, end).toString()}`));
        return;
      }
      socket.on("data", (chunk: Buffer) => onData(chunk, ws));
      resolve(ws);
      if (head.length > end + 4) onData(head.subarray(end + 4), ws);
    };
    socket.on("data", onHandshake);
    socket.once("error", reject);
    socket.once("close", () => onClose?.());
  });
}
