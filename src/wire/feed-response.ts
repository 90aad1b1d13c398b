import { BinaryWriter } from "@bufbuild/protobuf/wire";

/**
 * One event of a FeedResponse, already encoded: `field` is its encoding
 * with its length prefix (as EncodedEvent.field is). A room's message event
 * comes as the room hub encoded it for every subscriber (RoomEvent, whose
 * only field is `ChatMessage message = 1`); FeedEvent holds the same
 * ChatMessage as `message = 2`, so its bytes are those with the one tag
 * byte changed: the message is never encoded again.
 */
export interface FeedPart {
  readonly field: Uint8Array;
  /** True when `field` is a RoomEvent holding a message, to be written as FeedEvent.message. */
  readonly roomMessage: boolean;
}

/** The tags of FeedResponse.events = 1 and FeedResponse.cursor = 2, and of RoomEvent.message = 1 and FeedEvent.message = 2 (all length-delimited). */
const FIELD_1 = 0x0a;
const FIELD_2 = 0x12;

/** How many bytes the varint at the start of `bytes` takes. */
function varintLength(bytes: Uint8Array): number {
  let i = 0;
  while (((bytes[i] as number) & 0x80) !== 0) i++;
  return i + 1;
}

/** A FeedEvent (any case) as a part: its encoding with its length prefix. */
export function feedEventPart(eventBytes: Uint8Array): FeedPart {
  return { field: new BinaryWriter().bytes(eventBytes).finish(), roomMessage: false };
}

/**
 * FeedResponse { repeated FeedEvent events = 1; string cursor = 2 } from its
 * parts, after `headroom` free bytes (for a frame prefix). Each part's bytes
 * are copied once.
 */
export function encodeFeedResponse(
  parts: readonly FeedPart[],
  cursor: string,
  headroom = 0,
): Buffer {
  const cursorField = new BinaryWriter().string(cursor).finish();
  let length = headroom + parts.length + 1 + cursorField.length;
  for (const p of parts) length += p.field.length;
  const out = Buffer.allocUnsafe(length);
  let at = headroom;
  for (const p of parts) {
    out[at++] = FIELD_1;
    out.set(p.field, at);
    if (p.roomMessage) {
      const tagAt = at + varintLength(p.field);
      if (out[tagAt] !== FIELD_1) throw new Error("a room event that holds no message");
      out[tagAt] = FIELD_2;
    }
    at += p.field.length;
  }
  out[at++] = FIELD_2;
  out.set(cursorField, at);
  return out;
}
