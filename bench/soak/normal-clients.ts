import { performance } from "node:perf_hooks";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { LatencyHistogram } from "../load/histogram.js";
import { pause, stopper } from "./tally.js";

type Client = ReturnType<typeof createClient<typeof ChatService>>;

/** What the normal clients saw. */
export interface NormalFigures {
  sent: number;
  acked: number;
  sendErrors: Map<string, number>;
  delivered: number;
  /** Deliveries the rooms' stored logs called for: each subscriber gets its room's seqs 1..last. */
  expected: number;
  gaps: number;
  duplicates: number;
  /** Subscriptions that ended with an error and were resumed from their last seq. */
  resumes: Map<string, number>;
  latency: LatencyHistogram;
}

/** One normal subscriber: from seq 0 of its room, resuming from its last seq if a stream ends. */
class Subscriber {
  last = 0n;
  delivered = 0;
  gaps = 0;
  duplicates = 0;
  private readonly abort = stopper();
  readonly done: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly room: string,
    private readonly figures: NormalFigures,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const stream = this.client.subscribe(
          { room: this.room, sinceSeq: this.last },
          { signal: this.abort.signal },
        );
        for await (const response of stream) {
          for (const e of response.events)
            if (e.event.case === "message") this.take(e.event.value.seq, e.event.value.text);
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        const code = Code[ConnectError.from(error).code] ?? "unknown";
        this.figures.resumes.set(code, (this.figures.resumes.get(code) ?? 0) + 1);
        await pause(100, this.abort.signal);
      }
    }
  }

  private take(seq: bigint, text: string): void {
    if (seq <= this.last) {
      this.duplicates++;
      return;
    }
    if (seq !== this.last + 1n) this.gaps++;
    this.last = seq;
    this.delivered++;
    // Normal senders' texts start with the send time; bursts' do not count.
    const sentAt = Number.parseFloat(text);
    if (Number.isFinite(sentAt)) this.figures.latency.record((performance.now() - sentAt) * 1000);
  }

  stop(): Promise<void> {
    this.abort.abort();
    return this.done;
  }
}

/** The normal load: subscribers spread over one room per sender, each sender pacing its Sends. */
export class NormalClients {
  readonly rooms: string[];
  readonly figures: NormalFigures = {
    sent: 0,
    acked: 0,
    sendErrors: new Map(),
    delivered: 0,
    expected: 0,
    gaps: 0,
    duplicates: 0,
    resumes: new Map(),
    latency: new LatencyHistogram(),
  };
  private readonly subscribers: Subscriber[] = [];
  private readonly senders: Promise<void>[] = [];
  private readonly stopSending = stopper();
  private readonly clients: Client[];
  private readonly rate: number;

  constructor(url: string, count: { subscribers: number; senders: number; rate: number }) {
    this.rooms = Array.from({ length: count.senders }, (_, i) => `soak-${i}`);
    // One HTTP/2 connection per ten subscribers, as a few processes' clients would share them.
    this.clients = Array.from({ length: Math.ceil(count.subscribers / 10) + 1 }, () =>
      createClient(ChatService, createGrpcTransport({ baseUrl: url })),
    );
    for (let i = 0; i < count.subscribers; i++) {
      const client = this.clients[1 + (i % (this.clients.length - 1))] as Client;
      this.subscribers.push(
        new Subscriber(client, this.rooms[i % this.rooms.length] as string, this.figures),
      );
    }
    this.rate = count.rate;
  }

  /** Start the senders: each sends to its room every 1/rate s, awaiting each ack. */
  startSending(): void {
    const client = this.clients[0] as Client;
    for (const [s, room] of this.rooms.entries()) {
      this.senders.push(
        (async () => {
          const interval = 1000 / this.rate;
          let next = performance.now();
          for (let i = 0; !this.stopSending.signal.aborted; i++) {
            this.figures.sent++;
            try {
              await client.send({
                room,
                author: `sender-${s}`,
                text: `${performance.now().toFixed(3)} #${i}`,
              });
              this.figures.acked++;
            } catch (error) {
              const code = Code[ConnectError.from(error).code] ?? "unknown";
              this.figures.sendErrors.set(code, (this.figures.sendErrors.get(code) ?? 0) + 1);
            }
            next += interval;
            await pause(Math.max(0, next - performance.now()), this.stopSending.signal);
          }
        })(),
      );
    }
  }

  /** The room's last seq, from History. */
  async lastSeq(room: string): Promise<bigint> {
    return (await (this.clients[0] as Client).history({ room, limit: 1 })).lastSeq;
  }

  /**
   * Stop the senders, let every subscriber reach its room's last seq (at
   * most `drainMs`), stop them and add up what they saw.
   */
  async finish(drainMs: number): Promise<NormalFigures> {
    this.stopSending.abort();
    await Promise.all(this.senders);
    const last = new Map<string, bigint>();
    for (const room of this.rooms) last.set(room, await this.lastSeq(room));
    const until = performance.now() + drainMs;
    while (
      performance.now() < until &&
      this.subscribers.some((s) => s.last < (last.get(s.room) ?? 0n))
    )
      await new Promise((r) => setTimeout(r, 50));
    await Promise.all(this.subscribers.map((s) => s.stop()));
    const f = this.figures;
    for (const s of this.subscribers) {
      f.delivered += s.delivered;
      f.gaps += s.gaps;
      f.duplicates += s.duplicates;
      f.expected += Number(last.get(s.room) ?? 0n);
    }
    return f;
  }
}
