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
 * A subscriber that keeps up gets each event alone, in the same bytes as
 * every other subscriber that keeps up: that frame is built once per event
 * and shared (a stream never modifies what it writes). Batches differ per
 * subscriber and are framed for each.
 */
const singleEventFrames = new WeakMap<EncodedEvent, Buffer>();

/** The batch as one uncompressed length-prefixed message (gRPC and Connect streams frame alike). */
export function eventBatchFrame(batch: readonly EncodedEvent[]): Buffer {
  const only = batch.length === 1 ? batch[0] : undefined;
  if (only === undefined) return writeFramePrefix(encodeEventBatch(batch, FRAME_PREFIX_BYTES));
  let frame = singleEventFrames.get(only);
  if (frame === undefined) {
    frame = writeFramePrefix(encodeEventBatch(batch, FRAME_PREFIX_BYTES));
    singleEventFrames.set(only, frame);
  }
  return frame;
}
