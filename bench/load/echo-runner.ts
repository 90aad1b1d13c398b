import type * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { EchoRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { connectH2, grpcFrame, startCall } from "./grpc-h2.js";
import type { EchoJob } from "./jobs.js";
import { MarkerScanner, stampedText } from "./marker.js";
import { connectParleyWs } from "./parley-ws.js";
import { connectRawWs } from "./raw-ws.js";
import { portOf, type Runner } from "./runner.js";
import { MeasuredWindow } from "./window.js";

function echoRequest(textBytes: number): Uint8Array {
  return toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: stampedText(textBytes) }));
}

/**
 * Echo streams on one connection: each response (found by its marker) is a
 * round trip timed from the stamp in its text, and sends the next request
 * on the same stream, so each stream keeps `depth` requests in flight.
 */
export async function echoRunner(job: EchoJob): Promise<Runner> {
  const w = new MeasuredWindow();
  let running = false;
  let closing = false;
  const senders: (() => void)[] = [];
  let close: () => void;

  if (job.wire === "grpc") {
    const session: http2.ClientHttp2Session = await connectH2(job.url);
    close = () => session.destroy();
    for (let s = 0; s < job.streams; s++) {
      const stream = startCall(session, "Echo", {
        onData: (chunk) => scanner.feed(chunk),
        onEnd: (status) => {
          if (!closing) w.error(status);
        },
      });
      const sendOne = () => stream.write(grpcFrame(echoRequest(job.textBytes)));
      const scanner = new MarkerScanner((us) => {
        w.okStamped(us);
        if (running) sendOne();
      });
      senders.push(sendOne);
    }
  } else if (job.wire === "parley-ws") {
    // One socket, one Echo call per stream: each response sends the next request on its call.
    const scanners = new Map<number, MarkerScanner>();
    const ws = await connectParleyWs(portOf(job.url), job.token, {
      onMessage: (id, payload) => scanners.get(id)?.feed(payload),
      onEnd: (_id, ok, end) => {
        if (!closing) w.error(ok ? "ended" : end);
      },
    });
    close = () => ws.close();
    for (let id = 1; id <= job.streams; id++) {
      ws.open(id, "Echo");
      const sendOne = () => ws.message(id, echoRequest(job.textBytes));
      scanners.set(
        id,
        new MarkerScanner((us) => {
          w.okStamped(us);
          if (running) sendOne();
        }),
      );
      senders.push(sendOne);
    }
  } else {
    // One WebSocket carries all the "streams": requests are pipelined on it.
    let sendOne = () => {};
    const scanner = new MarkerScanner((us) => {
      w.okStamped(us);
      if (running) sendOne();
    });
    const ws = await connectRawWs(portOf(job.url), "/echo", (chunk) => scanner.feed(chunk));
    sendOne = () => ws.send(echoRequest(job.textBytes));
    close = () => ws.close();
    for (let s = 0; s < job.streams; s++) senders.push(() => sendOne());
  }

  return {
    start() {
      running = true;
      for (let d = 0; d < job.depth; d++) for (const send of senders) send();
    },
    mark: () => w.mark(),
    stop() {
      running = false;
      return w.result();
    },
    async close() {
      closing = true;
      close();
      return w.successes;
    },
  };
}
