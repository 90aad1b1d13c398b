import type { AppendResult, MessageLog, NewMessage } from "../store/message-log.js";
import { type Relay, relayOtherNodes } from "./other-nodes.js";
import { joinEvent, leaveEvent, messageEvent, type QueuedEvent } from "./room-event.js";
import type { Subscription } from "./subscription.js";

/**
 * How long a subscription's Ready waits at most for the first read of the
 * other processes' members (it normally takes two round trips to Redis: the
 * channel's SUBSCRIBE, then the member list); past it, Ready lists what is
 * known and the rest come as joins.
 */
const MEMBERS_WAIT_MS = 2000;

/** An append's result, with the bytes of the event its room published, if it did. */
export interface Appended extends AppendResult {
  /**
   * The message's RoomEvent with its length (QueuedEvent.field), when this
   * process published it; undefined for a duplicate, or when the store's
   * live feed brought the message first. Send answers with these bytes.
   */
  readonly eventField?: Uint8Array;
}

/** A subscription as others see it. */
export interface Member {
  memberId: string;
  author: string;
}

/**
 * One room's live side: its subscribers and the ordered publication of
 * appended messages. A Room object lives while the room has subscribers or
 * appends in flight; the log itself lives in the store.
 */
export class Room {
  private readonly subscribers = new Set<Subscription>();
  /** How many of the subscribers are silent (feeds): they are never members. */
  private silentCount = 0;
  /** Publication follows call order, which is seq order: each append waits for the one before it. */
  private publishTail: Promise<unknown> = Promise.resolve();
  private appendsInFlight = 0;
  /** The highest seq this process has seen for the room. */
  lastSeq = 0;
  /** The highest message seq pushed to subscribers (a message at or below it is covered). */
  publishedSeq = 0;
  /** The link to other processes sharing the store (Redis), while there are subscribers. */
  private relay: Relay | undefined;

  constructor(
    readonly name: string,
    private readonly log: MessageLog,
    private readonly onIdle: (room: Room) => void,
  ) {}

  /** Store a message, then publish it to every subscriber, in seq order. */
  append(message: NewMessage): Promise<Appended> {
    this.appendsInFlight++;
    const stored = this.log.append(this.name, message);
    const published = this.publishTail
      .then(() => stored)
      .then((result): Appended => {
        // The store's live feed may have brought it (or a later one) already.
        if (result.duplicate || result.message.seq <= this.publishedSeq) return result;
        const event = messageEvent(result.message);
        this.publish(event);
        return { message: result.message, duplicate: false, eventField: event.field };
      });
    this.publishTail = published.catch(() => undefined);
    return published.finally(() => {
      this.appendsInFlight--;
      this.releaseIfIdle();
    });
  }

  /** Start delivering live events to a subscription and announce it to the others (unless silent). */
  attach(sub: Subscription): void {
    this.subscribers.add(sub);
    // A silent follower still needs the other processes' messages (Redis).
    if (this.subscribers.size === 1) this.relay ??= relayOtherNodes(this, this.log);
    if (sub.silent) {
      this.silentCount++;
      return;
    }
    this.relay?.joined(sub.memberId, sub.author);
    this.publish(joinEvent(sub.memberId, sub.author));
  }

  /** Stop delivering to a subscription and announce that it left (unless silent). */
  detach(sub: Subscription): void {
    if (!this.subscribers.delete(sub)) return;
    if (sub.silent) this.silentCount--;
    else this.relay?.left(sub.memberId);
    if (this.subscribers.size === 0) {
      this.relay?.stop();
      this.relay = undefined;
    }
    if (!sub.silent) this.publish(leaveEvent(sub.memberId, sub.author));
    this.releaseIfIdle();
  }

  /** Raise the known last seq (from a head read). */
  noteLastSeq(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** Push an event to every subscription that wants it. */
  publish(event: QueuedEvent): void {
    this.noteLastSeq(event.seq);
    if (event.seq > this.publishedSeq) this.publishedSeq = event.seq;
    else if (event.seq === 0) this.relay?.forward(event);
    for (const sub of this.subscribers) sub.push(event);
  }

  /**
   * Who is subscribed now: this process's subscriptions oldest first, then
   * those on other processes sharing the store (Redis), as this one knows them.
   */
  members(): Member[] {
    const local: Member[] = [];
    for (const s of this.subscribers) {
      if (!s.silent) local.push({ memberId: s.memberId, author: s.author });
    }
    return this.relay ? local.concat(this.relay.members()) : local;
  }

  /**
   * Resolves once members() includes the other processes' members sharing
   * the store (at once on an engine one process owns), or after MEMBERS_WAIT_MS.
   */
  async membersKnown(): Promise<void> {
    const loaded = this.relay?.membersLoaded();
    if (loaded === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, MEMBERS_WAIT_MS);
    });
    await Promise.race([loaded, late]);
    clearTimeout(timer);
  }

  /** How many subscriptions the room has in this process now (silent followers are not members). */
  get memberCount(): number {
    return this.subscribers.size - this.silentCount;
  }

  /** Visit every subscription (for heartbeats). */
  forEachSubscriber(visit: (sub: Subscription) => void): void {
    for (const sub of this.subscribers) visit(sub);
  }

  private releaseIfIdle(): void {
    if (this.subscribers.size === 0 && this.appendsInFlight === 0) this.onIdle(this);
  }
}
