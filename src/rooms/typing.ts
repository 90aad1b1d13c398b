import { create } from "@bufbuild/protobuf";
import { RoomEventSchema } from "../../gen/chat/v1/chat_pb.js";
import { type QueuedEvent, queuedEvent } from "./room-event.js";

/** How typing events are paced. */
export interface TypingOptions {
  /** At most one "typing" event per author and room this often (ms). */
  coalesceMs: number;
  /** A typist with no refresh for this long gets a "stopped" event (ms). */
  expireMs: number;
}

/** The pacing the contract promises (see SetTyping in chat.proto). */
export const DEFAULT_TYPING: TypingOptions = { coalesceMs: 1000, expireMs: 5000 };

interface Typist {
  /** When the last "typing" event for this author went out. */
  publishedMs: number;
  expiry: NodeJS.Timeout;
}

/** A typing event; ephemeral (seq 0), delivered to every member, the typist's own streams too. */
export function typingEvent(author: string, stopped: boolean): QueuedEvent {
  return queuedEvent(
    create(RoomEventSchema, { event: { case: "typing", value: { author, stopped } } }),
    0,
  );
}

/**
 * Who is typing where. Keystroke floods become at most one event per author
 * and room per `coalesceMs` (the first goes out at once, later ones within the
 * window only refresh), and a typist that stops refreshing gets a "stopped"
 * event after `expireMs`, so clients need no timers. State exists only while
 * someone is typing: one timer per active typist.
 */
export class TypingTracker {
  private readonly typists = new Map<string, Typist>();

  constructor(
    /** Deliver an event to a room's current subscribers (none: drop it). */
    private readonly publish: (room: string, event: QueuedEvent) => void,
    private readonly options: TypingOptions = DEFAULT_TYPING,
  ) {}

  /** An author is typing in a room (again). */
  typing(room: string, author: string): void {
    const key = keyOf(room, author);
    const now = Date.now();
    const typist = this.typists.get(key);
    if (typist) clearTimeout(typist.expiry);
    const expiry = setTimeout(() => this.stopped(room, author), this.options.expireMs);
    expiry.unref();
    if (typist && now - typist.publishedMs < this.options.coalesceMs) {
      typist.expiry = expiry;
      return;
    }
    this.typists.set(key, { publishedMs: now, expiry });
    this.publish(room, typingEvent(author, false));
  }

  /** An author stopped typing: announce it if it was typing. */
  stopped(room: string, author: string): void {
    if (this.forget(room, author)) this.publish(room, typingEvent(author, true));
  }

  /** An author's message arrived, which itself ends the indicator: forget it silently. */
  messageFrom(room: string, author: string): void {
    this.forget(room, author);
  }

  /** Cancel every timer (server shutdown). */
  close(): void {
    for (const typist of this.typists.values()) clearTimeout(typist.expiry);
    this.typists.clear();
  }

  private forget(room: string, author: string): boolean {
    const key = keyOf(room, author);
    const typist = this.typists.get(key);
    if (!typist) return false;
    clearTimeout(typist.expiry);
    this.typists.delete(key);
    return true;
  }
}

/** Room names cannot contain a newline, so this key is unambiguous. */
function keyOf(room: string, author: string): string {
  return `${room}\n${author}`;
}
