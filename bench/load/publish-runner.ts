import type * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { SendRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { connectH2, grpcFrame, startCall, unaryCall } from "./grpc-h2.js";
import type { PublishJob } from "./jobs.js";
import { MarkerScanner, stampedText } from "./marker.js";
import { connectParleyWs } from "./parley-ws.js";
import { connectRawWs } from "./raw-ws.js";
import { drained, portOf, type Runner } from "./runner.js";
import { parleySubscriber, subscribeFrame } from "./subscribe-runner.js";
import { MeasuredWindow } from "./window.js";

function sendRequest(room: string, textBytes: number): Uint8Array {
  return toBinary(
    SendRequestSchema,
    create(SendRequestSchema, { room, author: "pub", text: stampedText(textBytes) }),
  );
}

/**
 * One publisher. Its window counts acknowledgements; with a probe it also
 * counts deliveries to one subscriber of rooms[0] and stays at most maxLag
 * messages ahead of it.
 */
export async function publishRunner(job: PublishJob): Promise<Runner> {
  const w = new MeasuredWindow();
  let sent = 0;
  let inFlight = 0;
  let running = false;
  let closing = false;
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const probe = new MarkerScanner();
  const closers: (() => void)[] = [];
  let send: (room: string) => void;

  const pump = () => {
    if (!running) return;
    const due =
      job.rate === null
        ? Number.POSITIVE_INFINITY
        : Math.floor(((performance.now() - startedAt) * job.rate) / 1000);
    while (
      inFlight < job.window &&
      sent < due &&
      (job.maxLag === null || sent - probe.count < job.maxLag)
    ) {
      inFlight++;
      send(job.rooms[sent % job.rooms.length] as string);
      sent++;
    }
  };
  const acked = () => {
    inFlight--;
    w.ok();
    pump();
  };

  if (job.wire === "grpc") {
    const session = await connectH2(job.url);
    closers.push(() => session.destroy());
    send = (room) => {
      void unaryCall(session, "Send", grpcFrame(sendRequest(room, job.textBytes))).then(
        (status) => {
          if (status === 0) return acked();
          inFlight--;
          if (!closing) w.error(status);
        },
      );
    };
    if (job.maxLag !== null) await grpcProbe(session, job.rooms[0] as string, probe, pump);
  } else if (job.wire === "parley-ws") {
    // Each Send is a call of its own on one socket: acknowledged by its END.
    let nextId = 0;
    const ws = await connectParleyWs(portOf(job.url), job.token, {
      onEnd(_id, ok, end) {
        if (ok) return acked();
        inFlight--;
        if (!closing) w.error(end);
      },
    });
    closers.push(() => ws.close());
    send = (room) => ws.call(++nextId, "Send", sendRequest(room, job.textBytes));
    if (job.maxLag !== null) {
      const sub = await parleySubscriber(
        job.url,
        job.token,
        job.rooms[0] as string,
        (payload) => {
          probe.feed(payload);
          pump();
        },
        () => undefined,
      );
      closers.push(() => sub.close());
    }
  } else {
    const port = portOf(job.url);
    // The ws baseline answers each publish with the stored message: one marker per ack.
    const acks = new MarkerScanner(acked);
    const ws = await connectRawWs(port, "/publish", (chunk) => acks.feed(chunk));
    closers.push(() => ws.close());
    send = (room) => ws.send(sendRequest(room, job.textBytes));
    if (job.maxLag !== null) {
      const sub = await connectRawWs(port, `/subscribe?room=${job.rooms[0]}`, (chunk) => {
        probe.feed(chunk);
        pump();
      });
      closers.push(() => sub.close());
    }
  }

  return {
    start() {
      running = true;
      startedAt = performance.now();
      if (job.rate !== null) timer = setInterval(pump, 1);
      pump();
    },
    mark: () => w.mark(),
    stop() {
      running = false;
      clearInterval(timer);
      return w.result();
    },
    async close() {
      await drained(() => inFlight);
      closing = true;
      for (const close of closers) close();
      return w.successes;
    },
  };
}

function grpcProbe(
  session: http2.ClientHttp2Session,
  room: string,
  probe: MarkerScanner,
  pump: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    startCall(
      session,
      "Subscribe",
      {
        onData(chunk) {
          resolve();
          probe.feed(chunk);
          pump();
        },
        onEnd: () => resolve(),
      },
      subscribeFrame(room),
    );
  });
}
