import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The 5-byte envelope of gRPC, gRPC-Web and Connect streams, in one module:
 * writing it (replies of the direct gRPC path), splitting a request body into
 * messages (FrameReader), and reading one whole envelope (what the connect
 * path inspects of connect-node's answers). It lives in wire/ rather than
 * server/edge/ because calls/reply.ts, below the edge, frames replies too.
 */

/** Bytes before every gRPC message: a flags byte and a 32-bit big-endian length. */
export const FRAME_PREFIX_BYTES = 5;

/** One envelope: its flags byte and the data after the prefix. */
export interface Envelope {
  readonly flags: number;
  readonly data: Uint8Array;
}

/** The envelope `chunk` holds when it holds exactly one whole envelope, else undefined. */
export function readEnvelope(chunk: Uint8Array): Envelope | undefined {
  if (chunk.length < FRAME_PREFIX_BYTES) return undefined;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  if (FRAME_PREFIX_BYTES + length !== chunk.length) return undefined;
  return { flags: chunk[0] as number, data: chunk.subarray(FRAME_PREFIX_BYTES) };
}

/** `data` in one envelope flagged `flags`. */
export function writeEnvelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, FRAME_PREFIX_BYTES);
  return out;
}

/** Fill in the prefix of an uncompressed message whose bytes follow at offset 5. */
export function writeFramePrefix(frame: Buffer): Buffer {
  frame[0] = 0;
  frame.writeUInt32BE(frame.length - FRAME_PREFIX_BYTES, 1);
  return frame;
}

/** One uncompressed gRPC length-prefixed message. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + message.length);
  frame.set(message, FRAME_PREFIX_BYTES);
  return writeFramePrefix(frame);
}

/**
 * Splits a request body into gRPC messages as its chunks arrive (a message
 * may span chunks, a chunk may hold several). Refuses a message larger than
 * `maxBytes` as soon as its prefix is read, before buffering it, and any
 * message flagged compressed: this path serves only identity-encoded calls.
 * Each refusal is the error connect-node's envelope reader raises for the
 * same bytes (the differential test, test/e2e/protocols/grpc-differential.test.ts,
 * holds them equal).
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  /** True when part of a message is still waiting for more bytes. */
  get partial(): boolean {
    return this.buffered.length > 0;
  }

  /** The request ended: throws when it ended inside a message. */
  end(): void {
    if (this.partial) {
      throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    }
  }

  /** Add a chunk; returns the messages it completed, in order. Throws ConnectError. */
  push(chunk: Buffer): Buffer[] {
    let data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Buffer[] = [];
    while (data.length >= FRAME_PREFIX_BYTES) {
      const flags = data[0] as number;
      const length = data.readUInt32BE(1);
      if ((flags & 1) !== 0) {
        throw new ConnectError(
          "received compressed envelope, but do not know how to decompress",
          Code.Internal,
        );
      }
      if (length > this.maxBytes) {
        throw new ConnectError(
          `message size ${length} is larger than configured readMaxBytes ${this.maxBytes}`,
          Code.ResourceExhausted,
        );
      }
      if (data.length < FRAME_PREFIX_BYTES + length) break;
      messages.push(data.subarray(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + length));
      data = data.subarray(FRAME_PREFIX_BYTES + length);
    }
    this.buffered = data;
    return messages;
  }
}
