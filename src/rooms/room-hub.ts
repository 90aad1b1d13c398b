import type { RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import type { AppendResult, MessageLog, NewMessage } from "../store/message-log.js";
import { type Member, Room } from "./room.js";
import { heartbeatEvent, type QueuedEvent } from "./room-event.js";
import { type EventSink, feedRoom, type StreamRequest, streamRoom } from "./room-stream.js";
import type { QueueLimits } from "./subscription.js";
import { type TypingOptions, TypingTracker } from "./typing.js";

/** Options of the room hub. */
export interface HubOptions extends QueueLimits {
  /** An idle stream gets a heartbeat after this many milliseconds. */
  heartbeatMs: number;
  /** Typing event pacing; the contract's 1 s and 5 s when omitted (tests shorten them). */
  typing?: TypingOptions;
}

/** A room with subscribers in this process. */
export interface LiveRoom {
  name: string;
  memberCount: number;
}

/**
 * The rooms of this server process: appends go through here so that every
 * local subscriber sees them in seq order; subscriptions start here.
 */
export class RoomHub {
  private readonly rooms = new Map<string, Room>();
  private readonly ticker: NodeJS.Timeout;
  private readonly typists: TypingTracker;

  constructor(
    private readonly log: MessageLog,
    private readonly options: HubOptions,
  ) {
    // One timer for all streams: a per-stream timer would cost a timer
    // reset on every delivery.
    const tickMs = Math.max(10, Math.min(1000, Math.floor(options.heartbeatMs / 2)));
    this.ticker = setInterval(() => this.sendHeartbeats(), tickMs);
    this.ticker.unref();
    // Typing goes only to rooms that have a live side: with no subscriber there is no one to tell.
    this.typists = new TypingTracker(
      (room, event) => this.rooms.get(room)?.publish(event),
      options.typing,
    );
  }

  /** Store a message in a room and publish it to the room's subscribers. */
  append(room: string, message: NewMessage): Promise<AppendResult> {
    this.typists.messageFrom(room, message.author);
    return this.room(room).append(message);
  }

  /** An author is typing in a room, or (stopped) no longer is; see TypingTracker. */
  setTyping(room: string, author: string, stopped: boolean): void {
    if (stopped) this.typists.stopped(room, author);
    else if (this.rooms.has(room)) this.typists.typing(room, author);
  }

  /** Who is subscribed to a room in this process now, oldest first. */
  members(room: string): Member[] {
    return this.rooms.get(room)?.members() ?? [];
  }

  /** Rooms with at least one subscriber in this process. */
  liveRooms(): LiveRoom[] {
    const live: LiveRoom[] = [];
    for (const room of this.rooms.values()) {
      if (room.memberCount > 0) live.push({ name: room.name, memberCount: room.memberCount });
    }
    return live;
  }

  /**
   * A room's events for one subscriber, each already encoded once for all
   * subscribers (what Subscribe and Chat write); see streamRoom.
   */
  stream(room: string, request: StreamRequest, signal: AbortSignal): AsyncIterable<QueuedEvent[]> {
    return streamRoom(() => this.room(room), this.log, request, this.options, signal);
  }

  /** A room's events for one subscriber, pushed into a sink; see feedRoom. */
  feed(room: string, request: StreamRequest, signal: AbortSignal, sink: EventSink): void {
    feedRoom(() => this.room(room), this.log, request, this.options, signal, sink);
  }

  /** A room's events for one subscriber, as protobuf messages; see streamRoom. */
  async *subscribe(
    room: string,
    request: StreamRequest,
    signal: AbortSignal,
  ): AsyncGenerator<RoomEvent[]> {
    for await (const batch of this.stream(room, request, signal)) yield batch.map((q) => q.event);
  }

  /** Stop the heartbeat timer. Streams end through their abort signals. */
  close(): void {
    clearInterval(this.ticker);
    this.typists.close();
  }

  private room(name: string): Room {
    let room = this.rooms.get(name);
    if (!room) {
      room = new Room(name, this.log, (idle) => {
        if (this.rooms.get(idle.name) === idle) this.rooms.delete(idle.name);
      });
      this.rooms.set(name, room);
    }
    return room;
  }

  private sendHeartbeats(): void {
    const due = Date.now() - this.options.heartbeatMs;
    for (const room of this.rooms.values()) {
      let beat: ReturnType<typeof heartbeatEvent> | undefined;
      room.forEachSubscriber((sub) => {
        if (!sub.idle || sub.lastDeliveryMs > due) return;
        beat ??= heartbeatEvent(room.lastSeq);
        sub.push(beat);
      });
    }
  }
}
