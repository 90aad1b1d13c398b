import { create, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { ChatResponseSchema, SubscribeResponseSchema } from "../../gen/chat/v1/chat_pb.js";
import { Reply } from "../calls/reply.js";
import type { QueuedEvent } from "../rooms/room-event.js";
import { encodeEventBatch, eventBatchFrame } from "../wire/event-batch.js";

/** The responses that carry room events: both are `repeated RoomEvent events = 1` and nothing else. */
type EventsSchema = typeof SubscribeResponseSchema | typeof ChatResponseSchema;

/**
 * A batch of room events as one Subscribe or Chat response. Its bytes are
 * the events' own, encoded once for every subscriber and copied, never
 * encoded again; the message object is built only for JSON clients.
 */
export function eventsReply<S extends EventsSchema>(
  schema: S,
  batch: readonly QueuedEvent[],
): Reply<MessageShape<S>> {
  return new Reply(
    () => encodeEventBatch(batch),
    () =>
      create(schema, {
        events: batch.map((q) => q.event),
      } as MessageInitShape<S>) as MessageShape<S>,
    () => eventBatchFrame(batch),
    (headroom) => encodeEventBatch(batch, headroom),
  );
}
