import { observeRelayLag } from "../metrics/redis-metrics.js";
import type { MessageLog, StoredMessage } from "../store/message-log.js";
import { RemoteMembers } from "./remote-members.js";
import { checkResume } from "./resume-errors.js";
import { messageEvent, type QueuedEvent } from "./room-event.js";
import type { Subscription } from "./subscription.js";
import { typingEvent } from "./typing.js";

/** The side of a Room the relay feeds. */
export interface RelayTarget {
  readonly name: string;
  /** The highest message seq already pushed to the room's subscribers. */
  readonly publishedSeq: number;
  /** Push an event to every subscriber, as the room's own appends are pushed. */
  publish(event: QueuedEvent): void;
  /** Visit every subscription (to end them all when the log was recreated). */
  forEachSubscriber(visit: (sub: Subscription) => void): void;
}

/** A room's link to the other processes sharing its store, while it has local subscribers. */
export interface Relay {
  /** A local subscriber attached: announce it to the other processes. */
  joined(memberId: string, author: string): void;
  /** A local subscriber left. */
  left(memberId: string): void;
  /** An ephemeral event the room published: typing is passed on to the other processes. */
  forward(event: QueuedEvent): void;
  /** The room's subscribers on other processes. */
  members(): Array<{ memberId: string; author: string }>;
  /** Resolves once members() holds the other processes' list as first read (or that read failed). */
  membersLoaded(): Promise<void>;
  /** Stop relaying (the room has no local subscriber left). */
  stop(): void;
}

/** At most this many missed messages are fetched and published at once after a (re)subscribe. */
const CATCH_UP_MESSAGES = 100;
/** A catch-up read that failed (Redis unreachable) is tried again after this long. */
const CATCH_UP_RETRY_MS = 1000;

/**
 * Feed a room's subscribers what happens on every process sharing the store
 * (a store with `live`, i.e. Redis): messages appended there, into the same
 * path the room's own appends take, members joining and leaving there
 * (RemoteMembers), and typing (both ways). Returns undefined when the store
 * has no other writers.
 *
 * Each message is pushed once per room, whichever path brings it first (the
 * room's own append or the store's live feed): anything at or below
 * publishedSeq is dropped. The live feed is at-most-once, so this relies on
 * the subscriber feed's gap filling (feedRoom reads the missing range from
 * the store when a seq jumps ahead). That covers a gap followed by a later
 * message; for the gap at the tail, each time the live watch is (again) in
 * place the newest stored messages are read and pushed, so a subscriber never
 * waits on a quiet room for something already stored.
 */
export function relayOtherNodes(room: RelayTarget, log: MessageLog): Relay | undefined {
  const live = log.live;
  if (!live) return undefined;
  const presence = log.presence;
  const remote = presence ? new RemoteMembers(room, presence) : undefined;
  let stopped = false;
  let firstResume = true;
  let retry: NodeJS.Timeout | undefined;
  /**
   * The log's epoch when the watch first stood; "" while the room had no log
   * then, until the first message relayed teaches it (learnEpoch).
   */
  let epoch: string | undefined;
  let learning = false;
  /** Typing events that came from other processes, never passed back. */
  const fromElsewhere = new WeakSet<QueuedEvent>();

  // A room unwritten when the watch stood has no epoch to hold the log to:
  // read the one its first message was appended under, so a Redis that later
  // comes back without that log is still noticed.
  const learnEpoch = () => {
    if (epoch !== "" || learning) return;
    learning = true;
    log.head(room.name).then(
      (head) => {
        learning = false;
        if (epoch === "") epoch = head.epoch;
      },
      () => {
        learning = false;
      },
    );
  };
  const push = (m: StoredMessage) => {
    if (m.seq > room.publishedSeq) room.publish(messageEvent(m));
    learnEpoch();
  };
  const catchUp = async (limit: number) => {
    clearTimeout(retry);
    let missed: StoredMessage[];
    try {
      // A Redis that came back without its data (no AOF, or a failover to a
      // replica that lagged) has a new epoch and counts from 1 again: every
      // subscriber's position means nothing now, so each is ended with the
      // epoch error instead of being silently given a hole.
      // A log that lost its newest messages but kept its epoch (a failover
      // to a replica that lagged behind) is behind what this room delivered:
      // its subscribers are ended too, with the "ahead of the room" error.
      // Only what was pushed before the read was sent must be in the head it
      // answers: this process's own appends and the live feed go on pushing
      // while the read is out, and the answer may be processed after them.
      const publishedBeforeRead = room.publishedSeq;
      const head = await log.head(room.name);
      // Still without an epoch and nothing relayed: no position to protect yet.
      if (epoch === undefined || (epoch === "" && room.publishedSeq === 0)) epoch = head.epoch;
      const broken =
        checkResume(room.name, { sinceSeq: undefined, epoch }, head) ??
        (head.lastSeq < publishedBeforeRead
          ? checkResume(room.name, { sinceSeq: publishedBeforeRead, epoch: "" }, head)
          : undefined);
      if (broken) {
        if (!stopped) room.forEachSubscriber((sub) => sub.fail(broken));
        return;
      }
      missed = await log.read(room.name, {
        afterSeq: room.publishedSeq,
        beforeSeq: 0,
        limit,
        newest: true,
      });
    } catch {
      if (!stopped) retry = setTimeout(() => void catchUp(limit), CATCH_UP_RETRY_MS).unref();
      return;
    }
    if (!stopped) for (const m of missed) push(m);
  };
  const unwatch = live.watch(room.name, {
    message: (m) => {
      if (m.seq > room.publishedSeq) observeRelayLag(m.sentAtMs);
      push(m);
    },
    resumed: () => {
      // First watch: the newest message is enough for each subscriber to fill
      // what it lacks from its own position. Later: what this room missed.
      void catchUp(firstResume ? 1 : CATCH_UP_MESSAGES);
      firstResume = false;
      void remote?.reload();
    },
    presence: (change) => remote?.apply(change),
    typing: (author, typingStopped, node) => {
      if (node === presence?.nodeId) return;
      const event = typingEvent(author, typingStopped);
      fromElsewhere.add(event);
      room.publish(event);
    },
  });
  return {
    joined: (memberId, author) => presence?.join(room.name, memberId, author),
    left: (memberId) => presence?.leave(room.name, memberId),
    forward(event) {
      if (fromElsewhere.has(event)) return;
      const e = event.event.event;
      if (e.case === "typing") presence?.typing(room.name, e.value.author, e.value.stopped);
    },
    members: () => remote?.list() ?? [],
    membersLoaded: () => remote?.loaded ?? Promise.resolve(),
    stop() {
      stopped = true;
      clearTimeout(retry);
      unwatch();
    },
  };
}
