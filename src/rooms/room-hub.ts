import type { CallEnd } from "../calls/call-end.js";
import type { MessageLog, NewMessage } from "../store/message-log.js";
import { type Appended, type Member, Room } from "./room.js";
import { heartbeatEvent } from "./room-event.js";
import { type EventSink, feedRoom, type StreamRequest } from "./room-stream.js";
import { DEFAULT_GRACE_MS, type QueueLimits } from "./subscription.js";
import { type TypingOptions, TypingTracker } from "./typing.js";

/** Options of the room hub. */
export interface HubOptions extends QueueLimits {
  /** An idle stream gets a heartbeat after this many milliseconds. */
  heartbeatMs: number;
  /** Typing event pacing; the contract's 1 s and 5 s when omitted (tests shorten them). */
  typing?: TypingOptions;
  /** New member ids (default random; tests fix them to get repeatable answers). */
  newMemberId?: () => string;
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
    // reset on every delivery. It sends heartbeats and judges subscribers
    // over their queue budget, so it ticks at half the shorter period.
    const period = Math.min(options.heartbeatMs, options.graceMs ?? DEFAULT_GRACE_MS);
    const tickMs = Math.max(10, Math.min(1000, Math.floor(period / 2)));
    this.ticker = setInterval(() => this.tick(), tickMs);
    this.ticker.unref();
    // Typing goes only to rooms that have a live side: with no subscriber there is no one to tell.
    this.typists = new TypingTracker(
      (room, event) => this.rooms.get(room)?.publish(event),
      options.typing,
    );
  }

  /** Store a message in a room and publish it to the room's subscribers. */
  append(room: string, message: NewMessage): Promise<Appended> {
    this.typists.messageFrom(room, message.author);
    return this.room(room).append(message);
  }

  /** An author is typing in a room, or (stopped) no longer is; see TypingTracker. */
  setTyping(room: string, author: string, stopped: boolean): void {
    if (stopped) this.typists.stopped(room, author);
    else if (this.rooms.has(room)) this.typists.typing(room, author);
  }

  /** True when `author` is subscribed to any room in this process now (a guest name in use). */
  hasMember(author: string): boolean {
    for (const room of this.rooms.values()) {
      if (room.memberCount > 0 && room.members().some((m) => m.author === author)) return true;
    }
    return false;
  }

  /**
   * Who is subscribed to a room now, as far as this process knows without
   * asking the store: its own subscriptions oldest first, then, while it has
   * some, those of the other processes sharing the store (see Room.members).
   */
  members(room: string): Member[] {
    return this.rooms.get(room)?.members() ?? [];
  }

  /**
   * Who is subscribed to a room now on every process sharing the store: this
   * process's subscriptions oldest first, then the other processes'. A room
   * with subscribers here answers from the list its Ready events use (kept
   * current by the store's live feed); any other asks the store (Redis).
   */
  async listMembers(room: string): Promise<Member[]> {
    const live = this.rooms.get(room);
    if (live !== undefined && live.memberCount > 0) {
      await live.membersKnown();
      if (live.memberCount > 0) return live.members();
    }
    const presence = this.log.presence;
    if (presence === undefined) return this.members(room);
    const shared = await presence.members(room);
    // Entries of this process in the store that it has no subscription for
    // are leaves still on their way: its own subscriptions are the truth here.
    return shared.members
      .filter((m) => m.node !== presence.nodeId)
      .map(({ memberId, author }) => ({ memberId, author }));
  }

  /** Rooms with at least one subscriber in this process, and how many each has here. */
  liveRooms(): LiveRoom[] {
    const live: LiveRoom[] = [];
    for (const room of this.rooms.values()) {
      if (room.memberCount > 0) live.push({ name: room.name, memberCount: room.memberCount });
    }
    return live;
  }

  /**
   * A room's events for one subscriber, pushed into a sink; see feedRoom.
   * This is the one way to subscribe: every method and gateway that streams
   * a room's events reaches it through its method core.
   */
  feed(room: string, request: StreamRequest, end: CallEnd, sink: EventSink): void {
    feedRoom(() => this.room(room), this.log, request, this.options, end, sink);
  }

  /** How long a stream may stay idle before it gets a heartbeat (ms). */
  get heartbeatMs(): number {
    return this.options.heartbeatMs;
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

  /** Heartbeats to idle streams; the slow-subscriber verdict for the others. */
  private tick(): void {
    const now = Date.now();
    const due = now - this.options.heartbeatMs;
    for (const room of this.rooms.values()) {
      let beat: ReturnType<typeof heartbeatEvent> | undefined;
      room.forEachSubscriber((sub) => {
        sub.checkBacklog(now);
        if (!sub.idle || sub.lastDeliveryMs > due) return;
        beat ??= heartbeatEvent(room.lastSeq);
        sub.push(beat);
      });
    }
  }
}
