/**
 * Reproduces: connect's deadline ends a call at once when the client asks
 * for more than 2^31-1 ms (about 24.8 days).
 *
 * connect's createDeadlineSignal passes the grpc-timeout (or
 * connect-timeout-ms) to setTimeout as it is. Node's timers hold a signed
 * 32-bit delay: a longer one prints a TimeoutOverflowWarning and fires after
 * 1 ms, so the call is aborted with DEADLINE_EXCEEDED right after it starts,
 * although the client granted it weeks. connect-node's default maxTimeoutMs
 * is Number.MAX_SAFE_INTEGER, so nothing refuses such a timeout first.
 *
 * Run: npx tsx src/server/workarounds/repro/deadline-overflow.ts
 * Worked around in src/server/parley-server.ts: maxTimeoutMs = 2^31-1 on
 * both paths, so a longer timeout is INVALID_ARGUMENT. Not imported by the
 * server.
 */
import { once } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { createDeadlineSignal, encodeEnvelope } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ChatService, SendRequestSchema } from "../../../../gen/chat/v1/chat_pb.js";

/** 2,500,000 s: about 28.9 days, past 2^31-1 ms. */
const TIMEOUT = "2500000S";

// 1. The signal alone.
const started = performance.now();
const { signal } = createDeadlineSignal(2_500_000_000);
await once(signal, "abort");
console.log(
  `createDeadlineSignal(2_500_000_000) aborted after ${(performance.now() - started).toFixed(1)} ms:`,
  String(signal.reason),
);

// 2. A whole call, asked with grpc-timeout 2500000S: a Send whose handler
// works for 100 ms but stops when its call's signal aborts, as a handler
// should (Parley's streams end on it).
async function call(options: { maxTimeoutMs?: number }): Promise<string> {
  const routes = (router: ConnectRouter) =>
    router.rpc(ChatService.method.send, async (_req, ctx) => {
      await Promise.race([sleep(100), once(ctx.signal, "abort")]);
      ctx.signal.throwIfAborted();
      return {};
    });
  const server = http2.createServer(connectNodeAdapter({ routes, ...options }));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({
    ":method": "POST",
    ":path": "/chat.v1.ChatService/Send",
    "content-type": "application/grpc",
    te: "trailers",
    "grpc-timeout": TIMEOUT,
  });
  const at = performance.now();
  stream.end(encodeEnvelope(0, toBinary(SendRequestSchema, create(SendRequestSchema))));
  stream.resume();
  const [trailers] = (await once(stream, "trailers")) as [http2.IncomingHttpHeaders];
  const ms = (performance.now() - at).toFixed(0);
  session.close();
  server.close();
  return `grpc-status ${trailers["grpc-status"]} "${decodeURIComponent(String(trailers["grpc-message"] ?? ""))}" after ${ms} ms`;
}

const unbounded = await call({});
console.log(`connect-node defaults, grpc-timeout ${TIMEOUT}: ${unbounded}`);
console.log(
  `maxTimeoutMs 2^31-1 (Parley), grpc-timeout ${TIMEOUT}: ${await call({ maxTimeoutMs: 2 ** 31 - 1 })}`,
);
console.log(
  unbounded.startsWith("grpc-status 4 ")
    ? "REPRODUCED: a call granted 28.9 days ended with DEADLINE_EXCEEDED before its 100 ms of work."
    : "NOT REPRODUCED: the call was not cut short; check whether maxTimeoutMs is still needed.",
);
