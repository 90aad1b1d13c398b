import * as http from "node:http";
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { type Abuse, pause, stopper, Tally } from "./tally.js";

function codeOf(error: unknown): string {
  return Code[ConnectError.from(error).code] ?? "unknown";
}

/**
 * Run `attempt` every `everyMs` until stopped, counting each outcome it
 * resolves with (or the code it fails with).
 */
function repeating(name: string, everyMs: number, attempt: (n: number) => Promise<string>): Abuse {
  const tally = new Tally(name);
  const stop = stopper();
  const inFlight = new Set<Promise<void>>();
  const run = (async () => {
    for (let n = 0; !stop.signal.aborted; n++) {
      const p = attempt(n).then(
        (outcome) => tally.add(outcome),
        (error: unknown) => tally.add(codeOf(error)),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      await pause(everyMs, stop.signal);
    }
  })();
  return {
    tally,
    async stop() {
      stop.abort();
      await run;
      await Promise.all(inFlight);
    },
  };
}

/** Every 10 s, 1,500 concurrent Sends to a room normal subscribers read (more than one turn's queue budget). */
export function sendBursts(url: string, room: string): Abuse {
  const client = createClient(ChatService, createGrpcTransport({ baseUrl: url }));
  return repeating("burst of 1,500 concurrent Sends every 10 s", 10_000, async (n) => {
    const sends = Array.from({ length: 1500 }, (_, i) =>
      client.send({ room, author: "burst", text: `burst ${n}.${i}` }).then(
        () => "acked",
        (error: unknown) => codeOf(error),
      ),
    );
    const outcomes = await Promise.all(sends);
    const acked = outcomes.filter((o) => o === "acked").length;
    return acked === 1500
      ? "burst: 1,500 acked"
      : `burst: ${acked} acked, others ${outcomes.find((o) => o !== "acked")}`;
  });
}

/** History of a never-used room name, 50 a second. */
export function unknownRoomReads(url: string): Abuse {
  const client = createClient(ChatService, createGrpcTransport({ baseUrl: url }));
  return repeating("History of an unknown room", 20, async (n) => {
    const page = await client.history({ room: `ghost-${process.pid}-${n}` });
    return page.lastSeq === 0n && page.messages.length === 0
      ? "empty room"
      : `lastSeq ${page.lastSeq}`;
  });
}

/** A Send of about 70 KiB (over the 64 KiB request limit), 5 a second. */
export function oversizeSends(url: string): Abuse {
  const client = createClient(ChatService, createGrpcTransport({ baseUrl: url }));
  const text = "x".repeat(70 * 1024);
  return repeating("Send of 70 KiB", 200, async () => {
    await client.send({ room: "soak-oversize", author: "big", text });
    return "acked";
  });
}

/** GET / with Range: bytes=5-2, over HTTP/1.1 and HTTP/2 in turn, 10 a second. */
export function invertedRanges(url: string): Abuse {
  const session = http2.connect(url);
  session.on("error", () => undefined);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const abuse = repeating("GET / with Range: bytes=5-2", 100, (n) =>
    n % 2 === 0
      ? new Promise<string>((resolve, reject) => {
          http
            .get(url, { agent, headers: { range: "bytes=5-2" } }, (res) => {
              res.resume();
              res.on("end", () => resolve(`HTTP/1.1 ${res.statusCode}`));
            })
            .on("error", reject);
        })
      : new Promise<string>((resolve, reject) => {
          const stream = session.request({ ":path": "/", range: "bytes=5-2" });
          let status = 0;
          stream.on("response", (h) => {
            status = Number(h[":status"]);
          });
          stream.resume();
          stream.on("end", () => resolve(`HTTP/2 ${status}`));
          stream.on("error", reject);
        }),
  );
  return {
    tally: abuse.tally,
    async stop() {
      await abuse.stop();
      session.destroy();
      agent.destroy();
    },
  };
}
