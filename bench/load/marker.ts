/**
 * Load messages carry their send time inside the message text: "@@T" and 16
 * digits of microseconds since the Unix epoch. Receivers count and time
 * deliveries by scanning the raw bytes they get for this marker, so no
 * receiver has to decode protobuf (or WebSocket framing) to keep count.
 */
const PREFIX = Buffer.from("@@T");
const DIGITS = 16;
const MARKER_BYTES = PREFIX.length + DIGITS;

/** Microseconds since the Unix epoch, comparable across processes on one machine. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A message text of `size` characters that starts with the send-time marker. */
export function stampedText(size: number): string {
  const head = `@@T${String(nowUs()).padStart(DIGITS, "0")} `;
  return head + "x".repeat(Math.max(0, size - head.length));
}

function readDigits(buf: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < at + DIGITS; i++) {
    const c = buf[i] ?? 0;
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * Counts markers in a byte stream fed chunk by chunk (a marker may be cut by
 * a chunk boundary: its start is kept for the next chunk), and reports each
 * marker's send time when asked to.
 */
export class MarkerScanner {
  /** Markers seen so far. */
  count = 0;
  private tail: Buffer | undefined;

  constructor(private readonly onStamp?: (sentUs: number) => void) {}

  /** Scan the next chunk of the stream. */
  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.tail) {
      buf = Buffer.concat([this.tail, chunk]);
      this.tail = undefined;
    }
    let i = buf.indexOf(PREFIX);
    while (i !== -1) {
      if (i + MARKER_BYTES > buf.length) {
        this.tail = Buffer.from(buf.subarray(i));
        return;
      }
      const sent = readDigits(buf, i + PREFIX.length);
      if (sent >= 0) {
        this.count++;
        this.onStamp?.(sent);
      }
      i = buf.indexOf(PREFIX, i + PREFIX.length);
    }
    const n = buf.length;
    if (buf[n - 1] === 0x40)
      this.tail = Buffer.from(buf.subarray(n - (buf[n - 2] === 0x40 ? 2 : 1)));
  }
}
