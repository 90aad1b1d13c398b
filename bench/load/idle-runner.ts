import type * as http2 from "node:http2";
import { connectH2, startCall } from "./grpc-h2.js";
import type { IdleJob } from "./jobs.js";
import { connectParleyWs, type ParleyWs } from "./parley-ws.js";
import { connectRawWs, type RawWs } from "./raw-ws.js";
import { portOf, type Runner } from "./runner.js";
import { subscribeFrame, subscribeRequest } from "./subscribe-runner.js";
import { MeasuredWindow } from "./window.js";

/** Connections are opened in batches: thousands at once would overflow the listen backlog. */
const BATCH = 100;

/**
 * Hold idle subscriptions open: `connections` with `streamsPerConnection`
 * each at setup, `growBy` more on each connection on "start". Each step
 * resolves once every new stream has been answered.
 */
export async function idleRunner(job: IdleJob): Promise<Runner> {
  const w = new MeasuredWindow();
  let closing = false;
  const sessions: http2.ClientHttp2Session[] = [];
  const sockets: RawWs[] = [];
  const parleySockets: ParleySocket[] = [];
  let stream = 0;
  const nextRoom = () => `idle-${stream++ % job.rooms}`;
  const open = (session: http2.ClientHttp2Session) =>
    new Promise<void>((resolve) => {
      startCall(
        session,
        "Subscribe",
        {
          onData: () => resolve(),
          onEnd: (status) => {
            resolve();
            if (!closing) w.error(status);
          },
        },
        subscribeFrame(nextRoom()),
      );
    });
  const openMany = (session: http2.ClientHttp2Session, n: number) =>
    Promise.all(Array.from({ length: n }, () => open(session)));

  for (let c = 0; c < job.connections; c += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, job.connections - c) }, async () => {
      if (job.wire === "parley-ws") {
        const socket = await ParleySocket.connect(job, (why) => {
          if (!closing) w.error(why);
        });
        parleySockets.push(socket);
        await socket.subscribe(job.streamsPerConnection, nextRoom);
        return;
      }
      if (job.wire === "ws") {
        const path = `/subscribe?room=${nextRoom()}`;
        sockets.push(await connectRawWs(portOf(job.url), path, () => undefined));
        return;
      }
      const session = await connectH2(job.url);
      sessions.push(session);
      await openMany(session, job.streamsPerConnection);
    });
    await Promise.all(batch);
  }
  return {
    async start() {
      for (let c = 0; c < sessions.length; c += BATCH) {
        await Promise.all(sessions.slice(c, c + BATCH).map((s) => openMany(s, job.growBy)));
      }
      for (let c = 0; c < parleySockets.length; c += BATCH) {
        const batch = parleySockets.slice(c, c + BATCH);
        await Promise.all(batch.map((s) => s.subscribe(job.growBy, nextRoom)));
      }
    },
    mark: () => w.mark(),
    stop: () => w.result(),
    async close() {
      closing = true;
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.close();
      for (const s of parleySockets) s.close();
      return w.successes;
    },
  };
}

/** A Parley WebSocket holding idle Subscribe calls, one id after another. */
class ParleySocket {
  private lastId = 0;
  private readonly waiting = new Map<number, () => void>();

  private constructor(private ws: ParleyWs | undefined) {}

  static async connect(job: IdleJob, onError: (why: string) => void): Promise<ParleySocket> {
    const socket = new ParleySocket(undefined);
    const answered = (id: number) => {
      socket.waiting.get(id)?.();
      socket.waiting.delete(id);
    };
    socket.ws = await connectParleyWs(portOf(job.url), job.token, {
      onMessage: (id) => answered(id),
      onEnd(id, ok, end) {
        answered(id);
        onError(ok ? "ended" : end);
      },
      onClose: () => onError("closed"),
    });
    return socket;
  }

  /** Open `n` more Subscribe calls; resolves once each has its first response (ready). */
  subscribe(n: number, room: () => string): Promise<unknown> {
    return Promise.all(
      Array.from({ length: n }, () => {
        const id = ++this.lastId;
        return new Promise<void>((resolve) => {
          this.waiting.set(id, resolve);
          this.ws?.call(id, "Subscribe", subscribeRequest(room()));
        });
      }),
    );
  }

  close(): void {
    this.ws?.close();
  }
}
