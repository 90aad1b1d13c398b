import { createClient, type Transport } from "@connectrpc/connect";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import { openSse, type SseStream } from "./sse-client.js";

/**
 * A subscriber that resumes by hand: every seq it was given, in order, and
 * how each of its streams ended. It does no de-duplication and fills no
 * gaps, so `seqs` is exactly what the server (or a balancer) delivered.
 */
export interface SeqFollower {
  readonly seqs: number[];
  /** The end of each stream before the follower subscribed again ("end of stream" or the error). */
  readonly ends: string[];
  /** Streams that reached `ready`. */
  readonly readies: number;
  stop(): void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Subscribe to `room` from seq 0 on `transport` and, whenever a stream ends
 * (error or not), subscribe again with since_seq = the last seq received and
 * the epoch of the last `ready`, as docs/scale-out.md tells a client to.
 */
export function followRpc(transport: Transport, room: string): SeqFollower {
  const client = createClient(ChatService, transport);
  const stop = new AbortController();
  const f = { seqs: [] as number[], ends: [] as string[], readies: 0, stop: () => stop.abort() };
  void (async () => {
    let epoch = "";
    while (!stop.signal.aborted) {
      const sinceSeq = BigInt(f.seqs.at(-1) ?? 0);
      try {
        for await (const res of client.subscribe(
          { room, sinceSeq, epoch },
          { signal: stop.signal },
        ))
          for (const e of res.events) {
            if (e.event.case === "ready") {
              epoch = e.event.value.epoch;
              f.readies++;
            } else if (e.event.case === "message") f.seqs.push(Number(e.event.value.seq));
          }
        f.ends.push("end of stream");
      } catch (error) {
        if (stop.signal.aborted) return;
        f.ends.push(String(error));
      }
      await pause(100);
    }
  })();
  return f;
}

/**
 * Follow `${baseUrl}/rooms/${room}/events` from seq 0 as EventSource would:
 * when the stream ends, GET it again with `Last-Event-ID` = the last `id:`
 * seen (and `?epoch=` from the first ready, so a recreated log is refused).
 */
export function followSse(baseUrl: string, room: string): SeqFollower {
  let stream: SseStream | undefined;
  let stopped = false;
  const f = {
    seqs: [] as number[],
    ends: [] as string[],
    readies: 0,
    stop: () => {
      stopped = true;
      stream?.close();
    },
  };
  void (async () => {
    let lastId = "0";
    let epoch = "";
    while (!stopped) {
      let seen = 0;
      try {
        const query = epoch === "" ? "since=0" : `since=0&epoch=${encodeURIComponent(epoch)}`;
        stream = await openSse(`${baseUrl}/rooms/${room}/events?${query}`, {
          "last-event-id": lastId,
        });
        if (stream.status !== 200) throw new Error(`HTTP ${stream.status}`);
        const frames = await stream.readUntil((all) => {
          for (const frame of all.slice(seen)) {
            if (frame.id !== undefined) lastId = frame.id;
            if (frame.event === "ready") {
              f.readies++;
              epoch ||= (JSON.parse(frame.data ?? "{}") as { epoch?: string }).epoch ?? "";
            } else if (frame.event === "message") f.seqs.push(Number(frame.id));
          }
          seen = all.length;
          return stopped;
        });
        seen = frames.length;
      } catch (error) {
        if (stopped) return;
        // readUntil's error lists every frame: the first line says enough.
        f.ends.push(String(error).split("; frames:")[0] ?? "");
      }
      await pause(100);
    }
  })();
  return f;
}

/**
 * Follow `room` from seq 0 with the client library's own subscribe, which
 * resumes by itself: `ends` lists each error it retried after (and the one
 * it gave up on, if it did), `seqs` every message it yielded.
 */
export function followWithLibrary(client: ParleyClient, room: string): SeqFollower {
  const stop = new AbortController();
  const f = { seqs: [] as number[], ends: [] as string[], readies: 0, stop: () => stop.abort() };
  void (async () => {
    try {
      const events = client.subscribe(room, {
        sinceSeq: 0n,
        signal: stop.signal,
        onStatus: (s) => {
          if (s.state === "retrying") f.ends.push(String(s.error));
        },
      });
      for await (const e of events) {
        if (e.event.case === "ready") f.readies++;
        else if (e.event.case === "message") f.seqs.push(Number(e.event.value.seq));
      }
    } catch (error) {
      f.ends.push(`gave up: ${String(error)}`);
    }
  })();
  return f;
}
