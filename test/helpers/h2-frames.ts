import type * as net from "node:net";

/** The HTTP/2 connection preface. */
export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Frame types used by the raw tests. */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, GOAWAY: 7 } as const;

/** One raw HTTP/2 frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** HEADERS for GET http://x{path} (HPACK without Huffman or indexing), ending the request. */
export function getHeaders(streamId: number, path: string): Buffer {
  const literal = (nameIndex: number, value: string) => [
    nameIndex,
    value.length,
    ...Buffer.from(value),
  ];
  // :method GET (static 2), :scheme http (6), :authority (1), :path (4); END_STREAM | END_HEADERS.
  const block = Buffer.from([0x82, 0x86, ...literal(1, "x"), ...literal(4, path)]);
  return frame(FRAME.HEADERS, 0x5, streamId, block);
}

/** A frame the server sent, with the error code of RST_STREAM and GOAWAY frames. */
export interface SeenFrame {
  type: number;
  streamId: number;
  errorCode?: number;
}

/** Collects and parses every frame the server sends on `socket` (after its preface-less start). */
export function readFrames(socket: net.Socket): () => SeenFrame[] {
  let buffered = Buffer.alloc(0);
  socket.on("data", (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
  });
  return () => {
    const frames: SeenFrame[] = [];
    let at = 0;
    while (at + 9 <= buffered.length) {
      const length = buffered.readUIntBE(at, 3);
      const type = buffered[at + 3] ?? -1;
      const streamId = buffered.readUInt32BE(at + 5) & 0x7fffffff;
      const seen: SeenFrame = { type, streamId };
      if (type === FRAME.RST_STREAM) seen.errorCode = buffered.readUInt32BE(at + 9);
      if (type === FRAME.GOAWAY) seen.errorCode = buffered.readUInt32BE(at + 13);
      frames.push(seen);
      at += 9 + length;
    }
    return frames;
  };
}
