import type * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { SendRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { connectH2, grpcFrame, unaryCall } from "./grpc-h2.js";
import type { SendJob } from "./jobs.js";
import { drained, type Runner } from "./runner.js";
import { MeasuredWindow } from "./window.js";

/** Concurrent senders over a few HTTP/2 connections, each awaiting its acknowledgement. */
export async function sendRunner(job: SendJob): Promise<Runner> {
  const w = new MeasuredWindow();
  const sessions: http2.ClientHttp2Session[] = [];
  for (let c = 0; c < job.connections; c++) sessions.push(await connectH2(job.url));
  let running = false;
  let inFlight = 0;
  const text = "x".repeat(job.textBytes);
  const loop = async (s: number) => {
    const session = sessions[s % sessions.length] as http2.ClientHttp2Session;
    const room = job.rooms[s % job.rooms.length] as string;
    for (let i = 0; running; i++) {
      const request = create(SendRequestSchema, { room, author: `s${s}`, text: `${i} ${text}` });
      inFlight++;
      const status = await unaryCall(
        session,
        "Send",
        grpcFrame(toBinary(SendRequestSchema, request)),
      );
      inFlight--;
      if (status === 0) w.ok();
      else w.error(status);
    }
  };
  return {
    start() {
      running = true;
      for (let s = 0; s < job.senders; s++) void loop(s);
    },
    mark: () => w.mark(),
    stop() {
      running = false;
      return w.result();
    },
    async close() {
      await drained(() => inFlight);
      for (const s of sessions) s.destroy();
      return w.successes;
    },
  };
}
