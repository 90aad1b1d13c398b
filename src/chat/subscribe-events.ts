import type { SubscribeRequest } from "../../gen/chat/v1/chat_pb.js";
import type { QueuedEvent } from "../rooms/room-event.js";
import type { RoomHub } from "../rooms/room-hub.js";
import { validSeq, validSubscription } from "./validate.js";

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
  const { room, author, epoch } = validSubscription(req);
  const sinceSeq = req.sinceSeq === undefined ? undefined : validSeq("since_seq", req.sinceSeq);
  return hub.stream(room, { author, epoch, sinceSeq }, signal);
}
