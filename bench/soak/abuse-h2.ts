import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { SendRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { connectH2, grpcFrame, startCall } from "../load/grpc-h2.js";
import { subscribeFrame } from "../load/subscribe-runner.js";
import { type Abuse, pause, stopper, Tally } from "./tally.js";

function outcome(status: number): string {
  return status === -1 ? "stream reset" : `grpc-status ${status}`;
}

/**
 * Open `count` Subscribe streams on one HTTP/2 connection to a quiet room,
 * and hold them. Beyond the server's MAX_CONCURRENT_STREAMS (1,000 by
 * default) a well-behaved client holds the rest back (nghttp2 queues them
 * until a stream closes), so the server serves at most the cap; the tally
 * says how many were served and what the server advertised.
 */
export async function streamsFlood(url: string, count: number): Promise<Abuse> {
  const tally = new Tally(`streams flood (${count} Subscribe streams on one connection)`);
  const session = await connectH2(url);
  let stopping = false;
  let served = 0;
  for (let i = 0; i < count; i++) {
    let ready = false;
    startCall(
      session,
      "Subscribe",
      {
        onData: () => {
          if (ready) return;
          ready = true;
          served++;
        },
        onEnd: (status) => {
          if (!stopping) tally.add(`ended early: ${outcome(status)}`);
        },
      },
      subscribeFrame("soak-flood"),
    );
    tally.add("opened");
  }
  return {
    tally,
    async stop() {
      stopping = true;
      tally.add(
        `MAX_CONCURRENT_STREAMS advertised`,
        session.remoteSettings.maxConcurrentStreams ?? 0,
      );
      tally.add("served (Ready received)", served);
      tally.add("held back by the client, beyond the cap", count - served);
      session.destroy();
    },
  };
}

/**
 * Subscribers that read Ready and then nothing, with a 1 KiB receive window,
 * in a room that gets bursts: each is checked after 20 s, time for the next
 * burst (every 10 s) and the 5 s grace to pass (reading what is
 * left to see how it ended) and replaced.
 */
export function neverReadingSubscribers(url: string, room: string, count: number): Abuse {
  const tally = new Tally(`never-reading subscriber (in ${room}, checked after 20 s)`);
  const stop = stopper();
  const one = async () => {
    while (!stop.signal.aborted) {
      const session = http2.connect(url, { settings: { initialWindowSize: 1024 } });
      session.on("error", () => undefined);
      const stream = session.request({
        ":method": "POST",
        ":path": "/chat.v1.ChatService/Subscribe",
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status = -1;
      stream.on("trailers", (t) => {
        status = Number(t["grpc-status"]);
      });
      stream.on("error", () => undefined);
      const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
      stream.end(subscribeFrame(room));
      stream.once("data", () => stream.pause());
      tally.add("opened");
      await pause(20_000, stop.signal);
      // Read what is left: a cut-off subscriber's stream ends with its status.
      stream.on("data", () => undefined);
      stream.resume();
      const ended = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
      ]);
      if (!stop.signal.aborted)
        tally.add(ended ? `cut off: ${outcome(status)}` : "still open after 20 s");
      session.destroy();
    }
  };
  const runs = Array.from({ length: count }, () => one());
  return {
    tally,
    async stop() {
      stop.abort();
      await Promise.all(runs);
    },
  };
}

/**
 * gRPC Sends that never half-close: one announces a 1 GiB message and
 * streams 16 KiB chunks; one sends complete messages one after another on
 * the unary call. Each is replaced once the server ends it.
 */
export async function endlessGrpcBodies(url: string): Promise<Abuse> {
  const tally = new Tally("never-ending gRPC Send body (no half-close)");
  const session = await connectH2(url);
  const stop = stopper();
  const message = grpcFrame(
    toBinary(
      SendRequestSchema,
      create(SendRequestSchema, { room: "soak-endless", author: "x", text: "y" }),
    ),
  );
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  const oneCall = async (kind: "huge message" | "many messages") => {
    while (!stop.signal.aborted && !session.destroyed) {
      let ended = false;
      let written = 0;
      const stream = session.request({
        ":method": "POST",
        ":path": "/chat.v1.ChatService/Send",
        "content-type": "application/grpc",
        te: "trailers",
      });
      // The server's answer ends its side; ours stays open, so 'close' would
      // wait for us: the status (trailers, or trailers-only headers) is the end.
      const done = new Promise<number>((resolve) => {
        const end = (status: number) => {
          ended = true;
          resolve(status);
        };
        const read = (h: http2.IncomingHttpHeaders) => {
          if (typeof h["grpc-status"] === "string") end(Number(h["grpc-status"]));
        };
        stream.on("response", read);
        stream.on("trailers", read);
        stream.on("close", () => end(-1));
      });
      stream.on("error", () => undefined);
      stream.resume();
      if (kind === "huge message") {
        const header = Buffer.alloc(5);
        header.writeUInt32BE(1 << 30, 1);
        stream.write(header);
      }
      void (async () => {
        while (!ended && !stop.signal.aborted && !stream.destroyed) {
          stream.write(kind === "huge message" ? chunk : message);
          written += kind === "huge message" ? chunk.length : message.length;
          await pause(20, stop.signal);
        }
      })();
      const status = await done;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      if (!stop.signal.aborted)
        tally.add(
          `${kind}: ${outcome(status)} after ${written < 64 * 1024 ? "under 64 KiB" : "64 KiB or more"} sent`,
        );
      await pause(200, stop.signal);
    }
  };
  const runs = [oneCall("huge message"), oneCall("many messages")];
  return {
    tally,
    async stop() {
      stop.abort();
      // Destroying the session closes the open calls, which ends each loop.
      session.destroy();
      await Promise.all(runs);
    },
  };
}
