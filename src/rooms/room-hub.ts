import type { RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import type { AppendResult, MessageLog, NewMessage } from "../store/message-log.js";
import { Room } from "./room.js";
import { heartbeatEvent } from "./room-event.js";
import { type StreamRequest, streamRoom } from "./room-stream.js";
import type { QueueLimits } from "./subscription.js";

/** Options of the room hub. */
export interface HubOptions extends QueueLimits {
  /** An idle stream gets a heartbeat after this many milliseconds. */
  heartbeatMs: number;
}

/**
 * The rooms of this server process: appends go through here so that every
 * local subscriber sees them in seq order; subscriptions start here.
 */
export class RoomHub {
  private readonly rooms = new Map<string, Room>();
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly log: MessageLog,
    private readonly options: HubOptions,
  ) {
    // One timer for all streams: a per-stream timer would cost a timer
    // reset on every delivery.
    const tickMs = Math.max(10, Math.min(1000, Math.floor(options.heartbeatMs / 2)));
    this.ticker = setInterval(() => this.sendHeartbeats(), tickMs);
    this.ticker.unref();
  }

  /** Store a message in a room and publish it to the room's subscribers. */
  append(room: string, message: NewMessage): Promise<AppendResult> {
    return this.room(room).append(message);
  }

  /** A room's events for one subscriber; see streamRoom. */
  subscribe(room: string, request: StreamRequest, signal: AbortSignal): AsyncIterable<RoomEvent[]> {
    return streamRoom(() => this.room(room), this.log, request, this.options, signal);
  }

  /** Stop the heartbeat timer. Streams end through their abort signals. */
  close(): void {
    clearInterval(this.ticker);
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
