import type { RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import type { SubscribeOptions } from "../../src/client/resuming-subscribe.js";
import type { LinkMode } from "./page-link.js";
import { chatFeed } from "./room-chat.js";

/** Where a room view reads its events from and posts to. */
export interface RoomFeed {
  /** The room's events from `options.sinceSeq`, resuming across lost connections (no gap, no duplicate). */
  events: AsyncIterable<RoomEvent>;
  /** Post; resolves once stored (the message is among `events` then), rejects with why it never will be. */
  post(text: string, clientMessageId: string): Promise<void>;
}

/**
 * The open room's feed: one Chat stream (join, post and receive on one
 * stream) over the page's WebSocket; Subscribe plus Send where the page
 * fell back to fetch, which cannot stream a request.
 */
export function roomFeed(
  api: ParleyClient,
  mode: LinkMode,
  room: string,
  author: string,
  options: SubscribeOptions,
): RoomFeed {
  if (mode === "websocket") return chatFeed(api, room, author, options);
  return {
    events: api.subscribe(room, { ...options, author }),
    post: async (text, clientMessageId) => {
      await api.send(room, author, text, { clientMessageId, signal: options.signal });
    },
  };
}
