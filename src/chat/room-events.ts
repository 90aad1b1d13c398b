import type { RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import type { RoomHub } from "../rooms/room-hub.js";
import { validSubscription } from "./validate.js";

/** A subscription request in plain values (seqs as numbers). */
export interface RoomEventsRequest {
  room: string;
  /** The last seq the client has; undefined starts live. */
  sinceSeq: number | undefined;
  /** "" accepts the room's epoch. */
  epoch: string;
  /** Display name for join and leave ("" anonymous). */
  author: string;
}

/**
 * A room's events for gateways other than the RPCs (the SSE endpoint): the
 * same stream as Subscribe, validated by the same rules. Throws
 * INVALID_ARGUMENT naming the field at once; resume refusals come from the
 * first read, as in Subscribe.
 */
export function roomEvents(hub: RoomHub) {
  return (request: RoomEventsRequest, signal: AbortSignal): AsyncIterable<RoomEvent[]> => {
    const { room, author, epoch } = validSubscription(request);
    return hub.subscribe(room, { author, epoch, sinceSeq: request.sinceSeq }, signal);
  };
}
