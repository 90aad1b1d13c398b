import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { ChatResponseSchema, SubscribeResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import type { QueuedEvent } from "../rooms/room-event.js";

/** The response messages that carry room events: both are `repeated RoomEvent events = 1` and nothing else. */
type EventsSchema = typeof SubscribeResponseSchema | typeof ChatResponseSchema;

/** Content types whose messages connect encodes with the protobuf binary format. */
const BINARY = /^application\/(grpc|grpc-web|connect)(\+proto)?$/;

/** True when a call with this request content type gets binary responses. */
export function isBinaryContentType(contentType: string | null): boolean {
  if (contentType === null) return false;
  return BINARY.test(contentType.split(";", 1)[0]?.trim().toLowerCase() ?? "");
}

/** The tag of `events = 1`, length-delimited: (1 << 3) | 2. */
const EVENTS_TAG = 0x0a;

/**
 * Copy the batch's events into one buffer after `headroom` free bytes: each
 * event's field bytes preceded by the tag, except (withFirstTag false) the
 * first, whose tag the caller writes.
 */
function writeEvents(
  batch: readonly QueuedEvent[],
  headroom: number,
  withFirstTag: boolean,
): Buffer {
  let length = headroom + batch.length - (withFirstTag ? 0 : 1);
  for (const q of batch) length += q.field.length;
  const out = Buffer.allocUnsafe(length);
  let at = headroom;
  for (const q of batch) {
    if (withFirstTag || at > headroom) out[at++] = EVENTS_TAG;
    out.set(q.field, at);
    at += q.field.length;
  }
  return out;
}

/**
 * The encoding of a response message holding the batch's events (a
 * SubscribeResponse or ChatResponse: `repeated RoomEvent events = 1` is their
 * only field), after `headroom` bytes left free for a frame prefix. Nothing
 * is encoded again: the events' bytes are copied once.
 */
export function encodedEvents(batch: readonly QueuedEvent[], headroom: number): Buffer {
  return writeEvents(batch, headroom, true);
}

/**
 * How to turn a batch of queued events into one response message for a call.
 *
 * Binary calls: the response's `events` stay empty and the events'
 * pre-encoded bytes ride along as an unknown field 1 entry, which protobuf-es
 * writes verbatim after the tag 0x0A: tag + length + bytes per event is
 * exactly the encoding of `repeated RoomEvent events = 1` (the only field),
 * so the bytes on the wire are identical while no event is encoded again per
 * subscriber.
 *
 * JSON calls (and any content type not known to be binary): the events as
 * messages, which connect encodes as usual (JSON ignores unknown fields).
 */
export function eventResponses<S extends EventsSchema>(schema: S, contentType: string | null) {
  type Response = ReturnType<typeof create<S>>;
  if (isBinaryContentType(contentType)) {
    return (batch: readonly QueuedEvent[]): Response => {
      const response = create(schema);
      if (batch.length > 0) {
        response.$unknown = [
          { no: 1, wireType: WireType.LengthDelimited, data: writeEvents(batch, 0, false) },
        ];
      }
      return response;
    };
  }
  return (batch: readonly QueuedEvent[]): Response =>
    create(schema, { events: batch.map((q) => q.event) } as MessageInitShape<S>) as Response;
}
