import type * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { SubscribeRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { connectH2, grpcFrame, startCall } from "./grpc-h2.js";
import type { SubscribeJob } from "./jobs.js";
import { MarkerScanner } from "./marker.js";
import { connectParleyWs, type ParleyWs } from "./parley-ws.js";
import { connectRawWs, type RawWs } from "./raw-ws.js";
import { portOf, type Runner } from "./runner.js";
import { MeasuredWindow } from "./window.js";

/** Subscribe request bytes for a room. */
export function subscribeRequest(room: string): Uint8Array {
  return toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { room }));
}

/** Subscribe request bytes for a room (gRPC framed). */
export function subscribeFrame(room: string): Buffer {
  return grpcFrame(subscribeRequest(room));
}

/**
 * One Subscribe call (id 1) on its own Parley WebSocket; resolves with the
 * socket once the call's first response (`ready`) arrives, or it ended.
 */
export function parleySubscriber(
  url: string,
  token: string | undefined,
  room: string,
  onMessage: (payload: Buffer) => void,
  onError: (why: string) => void,
): Promise<ParleyWs> {
  return new Promise((resolve, reject) => {
    let answered = () => {};
    connectParleyWs(portOf(url), token, {
      onMessage(_id, payload) {
        answered();
        onMessage(payload);
      },
      onEnd(_id, ok, end) {
        answered();
        onError(ok ? "ended" : end);
      },
      onClose: () => onError("closed"),
    }).then((ws) => {
      answered = () => {
        answered = () => {};
        resolve(ws);
      };
      ws.call(1, "Subscribe", subscribeRequest(room));
    }, reject);
  });
}

/**
 * Open every subscription and resolve once each has received its first
 * bytes (Parley's and the grpc-js baseline's `ready`; for WebSocket, the
 * completed upgrade), so the publisher starts with everyone listening.
 */
export async function subscribeRunner(job: SubscribeJob): Promise<Runner> {
  const w = new MeasuredWindow();
  const onStamp = job.latency ? (us: number) => w.okStamped(us) : () => w.ok();
  let closing = false;
  const sessions: http2.ClientHttp2Session[] = [];
  const sockets: (RawWs | ParleyWs)[] = [];
  if (job.wire === "grpc") {
    for (let c = 0; c < job.connections; c++) sessions.push(await connectH2(job.url));
    await Promise.all(
      Array.from({ length: job.streams }, (_, i) => {
        const session = sessions[i % sessions.length] as http2.ClientHttp2Session;
        const room = job.rooms[i % job.rooms.length] as string;
        const scanner = new MarkerScanner(onStamp);
        return new Promise<void>((resolve) => {
          startCall(
            session,
            "Subscribe",
            {
              onData(chunk) {
                resolve();
                scanner.feed(chunk);
              },
              onEnd(status) {
                resolve();
                if (!closing) w.error(status);
              },
            },
            subscribeFrame(room),
          );
        });
      }),
    );
  } else {
    const port = portOf(job.url);
    // WebSocket has one socket per subscriber here, for Parley's protocol as
    // for the raw ws baseline: connect in batches, as the idle runner does.
    for (let first = 0; first < job.streams; first += 100) {
      const batch = Array.from({ length: Math.min(100, job.streams - first) }, (_, k) => {
        const room = job.rooms[(first + k) % job.rooms.length] as string;
        const scanner = new MarkerScanner(onStamp);
        if (job.wire === "parley-ws") {
          return parleySubscriber(
            job.url,
            job.token,
            room,
            (payload) => scanner.feed(payload),
            (why) => {
              if (!closing) w.error(why);
            },
          );
        }
        return connectRawWs(
          port,
          `/subscribe?room=${room}`,
          (chunk) => scanner.feed(chunk),
          () => {
            if (!closing) w.error("closed");
          },
        );
      });
      sockets.push(...(await Promise.all(batch)));
    }
  }
  return {
    start() {},
    mark: () => w.mark(),
    stop: () => w.result(),
    async close() {
      closing = true;
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.close();
      return w.successes;
    },
  };
}
