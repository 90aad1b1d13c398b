import { FRAME_PREFIX_BYTES, writeFramePrefix } from "./envelope.js";

/**
 * An event already encoded as the `events` field's bytes. The room hub's
 * queued events have this shape; wire/ names only what it reads, so data
 * flows down (rooms import wire, never the other way).
 */
export interface EncodedEvent {
  /** The RoomEvent's encoding, with its length prefix, without the field's tag. */
  readonly field: Uint8Array;
}

/** The tag of `repeated RoomEvent events = 1`, length-delimited: (1 << 3) | 2. */
const EVENTS_TAG = 0x0a;

/**
 * The encoding of a response message holding the batch's events
 * (SubscribeResponse or ChatResponse: `repeated RoomEvent events = 1` is
 * their only field), after `headroom` bytes left free for a frame prefix.
 * Nothing is encoded again: each event's bytes are copied once.
 */
export function encodeEventBatch(batch: readonly EncodedEvent[], headroom = 0): Buffer {
  let length = headroom + batch.length;
  for (const q of batch) length += q.field.length;
  const out = Buffer.allocUnsafe(length);
  let at = headroom;
  for (const q of batch) {
    out[at++] = EVENTS_TAG;
    out.set(q.field, at);
    at += q.field.length;
  }
  return out;
}

/**
 * Subscribers that keep up get the same events in each turn: alone when
 * messages come one a turn, as the same run of events when they come
 * faster. The frame of a batch is built once and shared by every subscriber
 * whose batch holds exactly those events (a stream never modifies what it
 * writes), so a turn copies a run of events once, not once per subscriber.
 * The frame is remembered by the batch's first event: one entry per event,
 * gone with it.
 */
interface SharedFrame {
  readonly events: readonly EncodedEvent[];
  readonly frame: Buffer;
}
const sharedFrames = new WeakMap<EncodedEvent, SharedFrame>();

function sameEvents(a: readonly EncodedEvent[], b: readonly EncodedEvent[]): boolean {
  if (a.length !== b.length) return false;
  // Identity, not bytes: batches are runs of the same queued event objects,
  // and a subscriber may miss one in the middle (its own typing, say).
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** The batch as one uncompressed length-prefixed message (gRPC and Connect streams frame alike). */
export function eventBatchFrame(batch: readonly EncodedEvent[]): Buffer {
  const first = batch[0];
  if (first === undefined) return writeFramePrefix(encodeEventBatch(batch, FRAME_PREFIX_BYTES));
  const shared = sharedFrames.get(first);
  if (shared !== undefined && sameEvents(shared.events, batch)) return shared.frame;
  const frame = writeFramePrefix(encodeEventBatch(batch, FRAME_PREFIX_BYTES));
  sharedFrames.set(first, { events: batch.slice(), frame });
  return frame;
}
