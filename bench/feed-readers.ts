// A share of bench/feed.ts's users, in a process of its own (forked with
// IPC): it opens their streams (one Feed each, or one Subscribe per room),
// says "ready" once each has its first response, counts the messages it
// receives between "measure" and "stop", and answers "stop" with the count
// and every send-to-delivery latency. Not run by hand.
import { setMaxListeners } from "node:events";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "../gen/chat/v1/chat_pb.js";

/** What the driver sends first. */
export interface ReadersJob {
  url: string;
  mode: "feed" | "subscribe";
  /** Each user's token and rooms. */
  users: { token: string; rooms: string[] }[];
  connections: number;
}

/** What this process answers "stop" with. */
export interface ReadersResult {
  delivered: number;
  latencies: number[];
  failed: number;
  /** This process's CPU over the measured window, in % of one core. */
  cpuPercent: number;
}

type Chat = Client<typeof ChatService>;
const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send?.(message);

process.once("message", async (job: ReadersJob) => {
  const clients: Chat[] = Array.from({ length: job.connections }, () =>
    createClient(ChatService, createGrpcTransport({ baseUrl: job.url })),
  );
  const stop = new AbortController();
  // Every stream listens on it.
  setMaxListeners(0, stop.signal);
  let measuring = false;
  const result: ReadersResult = { delivered: 0, latencies: [], failed: 0, cpuPercent: 0 };
  let cpuAtMeasure = process.cpuUsage();
  let measuredAt = performance.now();
  const ready: Promise<void>[] = [];
  job.users.forEach((user, u) => {
    const client = clients[u % clients.length] as Chat;
    const options = { headers: { authorization: `Bearer ${user.token}` }, signal: stop.signal };
    const streams =
      job.mode === "feed"
        ? [client.feed({}, options)]
        : user.rooms.map((room) => client.subscribe({ room }, options));
    for (const stream of streams) {
      let first: () => void = () => {};
      ready.push(
        new Promise<void>((resolve) => {
          first = resolve;
        }),
      );
      void (async () => {
        try {
          for await (const res of stream) {
            first();
            if (!measuring) continue;
            for (const e of res.events) {
              if (e.event.case !== "message") continue;
              result.delivered++;
              result.latencies.push(now() - Number(e.event.value.text));
            }
          }
        } catch {
          if (!stop.signal.aborted) result.failed++;
          first();
        }
      })();
    }
  });
  process.on("message", (command: string) => {
    if (command === "measure") {
      measuring = true;
      cpuAtMeasure = process.cpuUsage();
      measuredAt = performance.now();
    }
    if (command === "stop") {
      measuring = false;
      const cpu = process.cpuUsage(cpuAtMeasure);
      result.cpuPercent = (cpu.user + cpu.system) / 10 / (performance.now() - measuredAt);
      stop.abort();
      // Disconnect only once the result is written: a result of many
      // latencies takes several writes, and disconnecting at once lost it.
      process.send?.(result, () => process.disconnect());
    }
  });
  await Promise.all(ready);
  send("ready");
});
