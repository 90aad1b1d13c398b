import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type FeedEvent,
  FeedEventSchema,
  type FeedResponse,
  FeedResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { CallEnd } from "../calls/call-end.js";
import type { ReplySink } from "../calls/method-core.js";
import { Reply } from "../calls/reply.js";
import type { QueuedEvent } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { EventSink } from "../rooms/room-stream.js";
import type { MessageLog } from "../store/message-log.js";
import type { Membership, PeopleChange } from "../store/people.js";
import { FRAME_PREFIX_BYTES, writeFramePrefix } from "../wire/envelope.js";
import { encodeFeedResponse, type FeedPart, feedEventPart } from "../wire/feed-response.js";
import { cursorHead, encodeCursorAfter, roomKey } from "./feed-cursor.js";
import type { Beating, FeedHeartbeats } from "./feed-heartbeats.js";
import { checkFeedResume } from "./feed-resume.js";
import { readRoomState, toMyRoom } from "./my-room.js";

/** What a feed stream needs from the server. */
export interface FeedDeps {
  hub: RoomHub;
  log: MessageLog;
  beats: FeedHeartbeats;
}

/** Who the feed is for and where it starts. */
export interface FeedStart {
  /** The caller's subject. */
  user: string;
  /** Whether the caller's token may read a room (a token may list its rooms). */
  allows: (room: string) => boolean;
  /** The cursor's positions (room key -> last seq delivered); undefined starts live. */
  cursor: ReadonlyMap<string, number> | undefined;
}

/** An event waiting for the next response, with the cursor change it makes. */
interface Pending {
  /** The event, unless it is a room's message (see queued). */
  event?: FeedEvent;
  /** A room's message as the hub encoded it: its bytes are reused (see FeedPart). */
  queued?: QueuedEvent;
  /** The room key whose position changes, if any. */
  key?: string;
  /** Its new position; -1 drops the room from the cursor. */
  seq?: number;
}

/**
 * One user's feed: the merge of its rooms' streams, each followed through
 * the room hub (which does the gapless resume of stored and live messages
 * per room, the queue budget and the slow-consumer cut-off) as a silent
 * follower, plus the user's membership and read changes from the store.
 * Events of one event-loop turn leave as one response, with the cursor
 * after them.
 */
export class FeedStream implements Beating {
  /** Room key -> last seq delivered, for the cursor. */
  private readonly positions = new Map<string, number>();
  /** Followed room -> its follower. */
  private readonly followers = new Map<string, RoomFollower>();
  /** The start every cursor of this user shares (its hash is not computed per response). */
  private readonly cursorHead: Buffer;
  private pending: Pending[] = [];
  private flushQueued = false;
  private drain: Promise<void> | undefined;
  private ended = false;
  private lastSentMs = Date.now();
  /** People changes, applied one after another (each may read the store). */
  private changes: Promise<void> = Promise.resolve();
  /** Changes that came before the followers started; applied after them. */
  private early: PeopleChange[] | undefined = [];
  private unwatch: (() => void) | undefined;
  /** Stops hearing of the call's end. */
  private unhookEnd: (() => void) | undefined;

  constructor(
    private readonly deps: FeedDeps,
    private readonly start: FeedStart,
    private readonly end: CallEnd,
    private readonly sink: ReplySink<FeedResponse>,
  ) {
    this.cursorHead = cursorHead(start.user);
  }

  /** Open the feed: ready, then the followers, then live changes. */
  open(): void {
    if (this.end.aborted) {
      this.finish(this.end.reason);
      return;
    }
    this.unhookEnd = this.end.onAbort((reason) => this.finish(reason));
    // Watch before reading the memberships: a change made meanwhile is then
    // seen, and applying a change is idempotent (a join of a followed room,
    // a leave of one not followed, change nothing).
    this.unwatch = this.deps.log.people.watch((change) => {
      if (change.kind === "lost") {
        // Joins, leaves or reads of this user may have been missed: the
        // client resumes with its cursor and gets them as they are now.
        this.finish(
          new ConnectError(
            "the server missed changes to memberships (its store's change channel was down); resume with the last cursor",
            Code.Unavailable,
          ),
        );
        return;
      }
      if (change.user !== this.start.user || this.ended) return;
      if (this.early !== undefined) this.early.push(change);
      else this.queueChange(change);
    });
    this.deps.beats.add(this);
    this.begin().catch((error: unknown) => this.finish(error));
  }

  /** From the heartbeat ticker. */
  beatIfIdleSince(dueMs: number): void {
    if (this.ended || this.pending.length > 0 || this.drain !== undefined) return;
    if (this.lastSentMs > dueMs) return;
    this.push({
      event: create(FeedEventSchema, {
        event: { case: "heartbeat", value: { at: timestampFromMs(Date.now()) } },
      }),
    });
  }

  private async begin(): Promise<void> {
    const { log } = this.deps;
    // On Redis, changes come over pub/sub: read only once it carries them.
    await log.people.watching?.();
    const all = await log.people.memberships(this.start.user);
    const memberships = all.filter((m) => this.start.allows(m.room));
    const states = await Promise.all(memberships.map((m) => readRoomState(log, m.room)));
    if (this.ended) return;
    const starts: number[] = [];
    memberships.forEach((m, i) => {
      const head = (states[i] as (typeof states)[number]).head;
      const key = roomKey(m.room);
      // Without a cursor the feed starts live; a room the cursor does not
      // know (joined since) starts where its membership began.
      const since =
        this.start.cursor === undefined
          ? head.lastSeq
          : (this.start.cursor.get(key) ?? m.joinedSeq);
      const refusal = checkFeedResume(m.room, since, head);
      if (refusal) throw refusal;
      starts.push(since);
      this.positions.set(key, since);
    });
    this.push({
      event: create(FeedEventSchema, {
        event: {
          case: "ready",
          value: {
            rooms: memberships.map((m, i) => toMyRoom(m, states[i] as (typeof states)[number])),
          },
        },
      }),
    });
    memberships.forEach((m, i) => {
      this.follow(m.room, starts[i] as number);
    });
    const early = this.early ?? [];
    this.early = undefined;
    for (const change of early) this.queueChange(change);
  }

  private queueChange(change: PeopleChange): void {
    this.changes = this.changes
      .then(() => this.apply(change))
      .catch((error: unknown) => this.finish(error));
  }

  private async apply(change: PeopleChange): Promise<void> {
    if (this.ended) return;
    switch (change.kind) {
      case "joined": {
        const m: Membership = change.membership;
        if (this.followers.has(m.room) || !this.start.allows(m.room)) return;
        const state = await readRoomState(this.deps.log, m.room);
        if (this.ended) return;
        // The joined event goes first; the room's messages after joinedSeq follow it.
        this.push({
          event: create(FeedEventSchema, { event: { case: "joined", value: toMyRoom(m, state) } }),
          key: roomKey(m.room),
          seq: m.joinedSeq,
        });
        this.follow(m.room, m.joinedSeq);
        return;
      }
      case "left": {
        const follower = this.followers.get(change.room);
        if (follower === undefined) return;
        this.followers.delete(change.room);
        follower.stop();
        this.push({
          event: create(FeedEventSchema, { event: { case: "left", value: { room: change.room } } }),
          key: follower.key,
          seq: -1,
        });
        return;
      }
      case "read":
        if (!this.followers.has(change.room)) return;
        this.push({
          event: create(FeedEventSchema, {
            event: { case: "read", value: { room: change.room, readSeq: BigInt(change.readSeq) } },
          }),
        });
        return;
    }
  }

  private follow(room: string, sinceSeq: number): void {
    const follower = new RoomFollower(this, room, roomKey(room));
    this.followers.set(room, follower);
    this.deps.hub.feed(
      room,
      { author: this.start.user, epoch: "", sinceSeq, silent: true },
      follower,
      follower,
    );
  }

  /** A follower's batch: its messages join the next response; presence, typing and heartbeats stay out. */
  messages(follower: RoomFollower, batch: readonly QueuedEvent[]): boolean {
    if (this.ended || this.followers.get(follower.room) !== follower) return true;
    // Only messages have a seq: ready, presence, typing and heartbeats stay out.
    for (const queued of batch) {
      if (queued.seq !== 0) this.push({ queued, key: follower.key, seq: queued.seq });
    }
    return this.drain === undefined;
  }

  /** Resolves when the feed's consumer can take more. */
  drained(): Promise<void> {
    return this.drain ?? Promise.resolve();
  }

  /** A follower ended on its own: the room's stream failed, so the feed does. */
  followerEnded(follower: RoomFollower, reason: unknown): void {
    if (this.ended || this.followers.get(follower.room) !== follower) return;
    const e = ConnectError.from(reason);
    // Other failures (a resume trimmed while reading) name the room already.
    if (e.code !== Code.ResourceExhausted) {
      this.finish(e);
      return;
    }
    this.finish(
      new ConnectError(
        `feed too slow: in room "${follower.room}", ${e.rawMessage.replace(/; resume with since_seq.*$/, "")}; resume with the last cursor received`,
        e.code,
      ),
    );
  }

  private push(pending: Pending): void {
    this.pending.push(pending);
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Everything of this turn (every room's wake-up comes in one) leaves as one response.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.ended || this.pending.length === 0) return;
    const sent = this.pending;
    for (const p of sent) {
      if (p.key === undefined || p.seq === undefined) continue;
      if (p.seq < 0) this.positions.delete(p.key);
      else this.positions.set(p.key, p.seq);
    }
    this.pending = [];
    this.lastSentMs = Date.now();
    const cursor = encodeCursorAfter(this.cursorHead, this.positions);
    if (this.sink.send(feedReply(sent, cursor))) return;
    this.drain ??= this.sink.drained().then(() => {
      this.drain = undefined;
    });
  }

  private finish(reason: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.unwatch?.();
    this.unhookEnd?.();
    this.deps.beats.remove(this);
    for (const follower of this.followers.values()) follower.stop();
    this.followers.clear();
    // What was not sent is not in any cursor sent: a resume delivers it.
    this.pending = [];
    this.sink.end(reason);
  }
}

/**
 * A response of pending events. Binary clients get bytes in which each
 * room message is the hub's encoding, shared with every other stream that
 * delivers it; the message object is built only for JSON clients.
 */
function feedReply(sent: readonly Pending[], cursor: string): Reply<FeedResponse> {
  const parts = (): FeedPart[] =>
    sent.map((p) =>
      p.queued === undefined
        ? feedEventPart(toBinary(FeedEventSchema, p.event as FeedEvent))
        : { field: p.queued.field, roomMessage: true },
    );
  return new Reply(
    () => encodeFeedResponse(parts(), cursor),
    () =>
      create(FeedResponseSchema, {
        events: sent.map((p) => {
          if (p.queued === undefined) return p.event as FeedEvent;
          const room = p.queued.event.event;
          return create(FeedEventSchema, {
            event:
              room.case === "message"
                ? { case: "message", value: room.value }
                : { case: undefined },
          });
        }),
        cursor,
      }),
    () => writeFramePrefix(encodeFeedResponse(parts(), cursor, FRAME_PREFIX_BYTES)),
    (headroom) => encodeFeedResponse(parts(), cursor, headroom),
  );
}

/** Why a room's feed ends when the Feed stops following it (nobody sees it: the follower is stopped first). */
const NO_LONGER_FOLLOWED = new Error("the feed no longer follows this room");

/**
 * One room of a feed, as the hub's sink for a silent follower, and as its
 * end (CallEnd: stopped when the Feed stops following the room), with no
 * AbortController per room followed.
 */
class RoomFollower implements EventSink, CallEnd {
  private stopped = false;
  /** stop() was called: the room's feed must end. */
  aborted = false;
  private hook: ((reason: unknown) => void) | undefined;

  constructor(
    private readonly feed: FeedStream,
    readonly room: string,
    readonly key: string,
  ) {}

  get reason(): unknown {
    return this.aborted ? NO_LONGER_FOLLOWED : undefined;
  }

  onAbort(hook: (reason: unknown) => void): () => void {
    if (this.aborted) {
      hook(NO_LONGER_FOLLOWED);
      return () => undefined;
    }
    this.hook = hook;
    return () => {
      if (this.hook === hook) this.hook = undefined;
    };
  }

  deliver(batch: QueuedEvent[]): boolean {
    if (this.stopped) return true;
    return this.feed.messages(this, batch);
  }

  drained(): Promise<void> {
    return this.feed.drained();
  }

  end(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.feed.followerEnded(this, error);
  }

  /** The feed no longer follows this room. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.aborted = true;
    const hook = this.hook;
    this.hook = undefined;
    hook?.(NO_LONGER_FOLLOWED);
  }
}
