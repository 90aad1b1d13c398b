// The floor under every HTTP/2 server here: bare node:http2 that answers each
// stream with response headers and one empty gRPC message, then keeps it open
// and reads whatever comes. Nothing else is held per stream or per
// connection, so what it costs is what Node and nghttp2 cost. Used for idle
// memory only (bench/stream-heap.ts, the idle-scale scenario).
import * as http2 from "node:http2";

const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

/** One listener for every stream's 'error' (a client gone): nothing per stream. */
function ignore(): void {}

export async function startHttp2Floor(
  port: number,
): Promise<{ port: number; stop(): Promise<void> }> {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 100_000 } });
  server.on("stream", (stream) => {
    stream.on("error", ignore);
    stream.resume();
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto" });
    stream.write(EMPTY_MESSAGE);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
