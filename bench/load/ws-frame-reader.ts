/** The opcode of a WebSocket ping (RFC 6455 section 5.2). */
export const WS_PING = 0x9;

/**
 * Splits the raw bytes a WebSocket server sends (unmasked frames, RFC 6455
 * section 5.2) into frames, chunk by chunk: each frame's opcode and payload,
 * the payload a view into the chunk when the frame lies inside one (no copy),
 * else the frame's bytes joined once. Servers in this suite never fragment
 * a message, so a frame is a message.
 */
export class WsFrameReader {
  private held: Buffer | undefined;

  constructor(private readonly onFrame: (opcode: number, payload: Buffer) => void) {}

  /** Read the next chunk of the stream. */
  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.held) {
      buf = Buffer.concat([this.held, chunk]);
      this.held = undefined;
    }
    let at = 0;
    for (;;) {
      const left = buf.length - at;
      if (left < 2) break;
      const b1 = buf[at + 1] as number;
      let length = b1 & 0x7f;
      let head = 2;
      if (length === 126) {
        if (left < 4) break;
        length = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (length === 127) {
        if (left < 10) break;
        length = Number(buf.readBigUInt64BE(at + 2));
        head = 10;
      }
      if (left < head + length) break;
      const opcode = (buf[at] as number) & 0x0f;
      this.onFrame(opcode, buf.subarray(at + head, at + head + length));
      at += head + length;
    }
    if (at < buf.length) this.held = Buffer.from(buf.subarray(at));
  }
}
