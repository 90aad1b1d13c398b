import * as http from "node:http";

/** One parsed Server-Sent Events frame: a comment, or fields of an event. */
export interface SseFrame {
  comment?: string;
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
}

/** An open SSE response read with node:http, no EventSource. */
export interface SseStream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Resolve with every frame so far once `done` says so (rejects if the stream ends first). */
  readUntil(done: (frames: SseFrame[]) => boolean): Promise<SseFrame[]>;
  /** Every frame, once the server has ended the stream. */
  ended(): Promise<SseFrame[]>;
  close(): void;
}

/**
 * GET `url` and parse the body as SSE frames as they arrive (frames end at a
 * blank line; one frame per event or comment block).
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      let buffer = "";
      const frames: SseFrame[] = [];
      let finished = false;
      let wake = () => {};
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          frames.push(parseFrame(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        wake();
      });
      const onEnd = () => {
        finished = true;
        wake();
      };
      res.on("end", onEnd);
      res.on("close", onEnd);
      const waitFor = async (done: (f: SseFrame[]) => boolean, untilEnd: boolean) => {
        for (;;) {
          if (!untilEnd && done(frames)) return frames;
          if (finished) {
            if (untilEnd) return frames;
            throw new Error(`stream ended first; frames: ${JSON.stringify(frames)}`);
          }
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      };
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        readUntil: (done) => waitFor(done, false),
        ended: () => waitFor(() => false, true),
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
  });
}

function parseFrame(text: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) {
      frame.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(":");
    const field = line.slice(0, colon) as "id" | "event" | "data" | "retry";
    frame[field] = line.slice(colon + 1).replace(/^ /, "");
  }
  return frame;
}

/** A plain GET (or other method) with its whole body. */
export function request(
  url: string,
  options: http.RequestOptions = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
