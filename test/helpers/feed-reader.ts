import type { Client } from "@connectrpc/connect";
import type { ChatService, FeedEvent, FeedResponse } from "../../gen/chat/v1/chat_pb.js";

/** A feed stream read in the test's own pace: events so far, and the last cursor. */
export class FeedReader {
  readonly events: FeedEvent[] = [];
  cursor = "";
  private readonly it: AsyncIterator<FeedResponse>;
  readonly abort = new AbortController();

  constructor(client: Client<typeof ChatService>, token: string, cursor = "") {
    this.it = client
      .feed(
        { cursor },
        { headers: { authorization: `Bearer ${token}` }, signal: this.abort.signal },
      )
      [Symbol.asyncIterator]();
  }

  /** Read responses until `done` holds for the events read so far; throws the stream's error. */
  async until(done: (events: readonly FeedEvent[]) => boolean): Promise<FeedEvent[]> {
    while (!done(this.events)) {
      const next = await this.it.next();
      if (next.done) throw new Error(`feed ended after ${this.events.length} events`);
      this.events.push(...next.value.events);
      this.cursor = next.value.cursor;
    }
    return this.events;
  }

  /** Read one more response. */
  async next(): Promise<FeedResponse> {
    const next = await this.it.next();
    if (next.done) throw new Error("feed ended");
    this.events.push(...next.value.events);
    this.cursor = next.value.cursor;
    return next.value;
  }

  close(): void {
    this.abort.abort();
  }
}

/** The messages in feed events, as "room:seq". */
export function feedMessages(events: readonly FeedEvent[]): string[] {
  return events.flatMap((e) =>
    e.event.case === "message" ? [`${e.event.value.room}:${e.event.value.seq}`] : [],
  );
}

/** How many message events a list holds. */
export function messageCount(events: readonly FeedEvent[]): number {
  return events.filter((e) => e.event.case === "message").length;
}
