import type { SubscribeRequest } from "../../gen/chat/v1/chat_pb.js";
import type { QueuedEvent } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { StreamRequest } from "../rooms/room-stream.js";
import { validSeq, validSubscription } from "./validate.js";

/** A Subscribe request, validated: throws INVALID_ARGUMENT naming the field. */
export function validSubscribeRequest(req: SubscribeRequest): {
  room: string;
  request: StreamRequest;
} {
  const { room, author, epoch } = validSubscription(req);
  const sinceSeq = req.sinceSeq === undefined ? undefined : validSeq("since_seq", req.sinceSeq);
  return { room, request: { author, epoch, sinceSeq } };
}

/**
 * Subscribe: validate the request (throwing INVALID_ARGUMENT before anything
 * starts), then the room's event batches for this subscriber until `signal`
 * aborts.
 */
export function subscribeEvents(
  hub: RoomHub,
  req: SubscribeRequest,
  signal: AbortSignal,
): AsyncIterable<QueuedEvent[]> {
  const { room, request } = validSubscribeRequest(req);
  return hub.stream(room, request, signal);
}
