import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { ChatService, FeedEvent } from "../../gen/chat/v1/chat_pb.js";
import { FeedReader } from "./feed-reader.js";

type ChatClient = Client<typeof ChatService>;

const REFUSALS = [
  Code.InvalidArgument,
  Code.OutOfRange,
  Code.FailedPrecondition,
  Code.Unauthenticated,
  Code.PermissionDenied,
];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Post messages `from` to `perRoom - 1` to each room, the rooms at once, each message with
 * its own client id; a failed Send is retried with the same id on whatever
 * `target()` gives then (a restarted server, another node), so each message
 * is stored once. `onSent` counts the Sends that returned.
 */
export async function postToRooms(
  rooms: readonly string[],
  perRoom: number,
  target: () => ChatClient,
  token: string,
  onSent: () => void = () => {},
  /** The index of the first message (messages before it were posted by an earlier call). */
  from = 0,
): Promise<void> {
  const headers = { authorization: `Bearer ${token}` };
  await Promise.all(
    rooms.map(async (room) => {
      for (let i = from; i < perRoom; i++) {
        for (let attempt = 0; ; attempt++) {
          try {
            await target().send(
              { room, text: `m${i}`, clientMessageId: `${room}-${i}` },
              { headers },
            );
            break;
          } catch (error) {
            if (attempt > 400) throw error;
            await pause(50);
          }
        }
        onSent();
      }
    }),
  );
}

/**
 * A user's feed that survives its server: when the stream fails it opens a
 * new one on `target()` with the last cursor received, until `done` holds
 * for every event received on all of them.
 */
export class ResumingFeed {
  /** Events of the streams that ended. */
  private readonly kept: FeedEvent[] = [];
  private reader: FeedReader | undefined;
  private cursor = "";
  /** How many streams it opened. */
  streams = 0;

  constructor(
    private readonly target: () => ChatClient,
    private readonly token: string,
  ) {}

  /** Open the first stream (live) and wait for its ready event. */
  async start(): Promise<void> {
    await this.until((e) => e.length >= 1);
  }

  /** Every event received, on every stream, in order. */
  get events(): FeedEvent[] {
    return [...this.kept, ...(this.reader?.events ?? [])];
  }

  /** Read (reopening as needed) until `done` holds for everything received. */
  async until(done: (events: readonly FeedEvent[]) => boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.reader ??= this.open();
      const reader = this.reader;
      try {
        await reader.until((e) => done([...this.kept, ...e]));
        return;
      } catch (error) {
        // A refusal is an answer; only a stream cut (server gone, shutting down) is retried.
        const code = ConnectError.from(error).code;
        if (attempt > 400 || REFUSALS.includes(code)) throw error;
        this.kept.push(...reader.events);
        this.cursor = reader.cursor || this.cursor;
        this.reader = undefined;
        await pause(50);
      }
    }
  }

  close(): void {
    this.reader?.close();
  }

  private open(): FeedReader {
    this.streams++;
    return new FeedReader(this.target(), this.token, this.cursor);
  }
}

/** Per room, the seqs delivered, in delivery order. */
export function seqsByRoom(events: readonly FeedEvent[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of events) {
    if (e.event.case !== "message") continue;
    const list = out[e.event.value.room] ?? [];
    list.push(Number(e.event.value.seq));
    out[e.event.value.room] = list;
  }
  return out;
}
