import type { Client, ConnectError } from "@connectrpc/connect";
import type { ChatService, FeedResponse } from "../../gen/chat/v1/chat_pb.js";
import {
  type Connection,
  type ReconnectStatus,
  type ResumeTuning,
  reconnecting,
} from "./reconnecting.js";

/** Options of ParleyClient.feed. */
export interface FeedOptions {
  /** The cursor of the last response a previous feed delivered; undefined or "" starts live. */
  cursor?: string | undefined;
  /** Ends the feed: the iterable returns without error. */
  signal?: AbortSignal | undefined;
  /** Reported on every (re)connection attempt and failure. */
  onStatus?: ((status: FeedStatus) => void) | undefined;
}

/** What a feed is doing, for a connection indicator. */
export type FeedStatus = ReconnectStatus | { state: "live"; cursor: string };

/**
 * Follow the caller's feed and keep following it: on a transient failure, a
 * slow-consumer cut-off or a silent stream, reconnect with backoff and
 * resume from the cursor of the last response delivered, so every message is
 * yielded once with no gap. Each connection starts with a ready event (the
 * memberships as they are then). Yields the server's responses: each
 * carries its events and the cursor after them, which a caller that outlives
 * the process keeps, to pass as `cursor` next time.
 *
 * A cursor the server refuses (malformed, another user's, past retention)
 * and any error that is not transient throw as ConnectError. Aborting
 * `signal` ends the iteration quietly.
 */
export async function* resumingFeed(
  rpc: Client<typeof ChatService>,
  options: FeedOptions,
  tuning: ResumeTuning,
): AsyncGenerator<FeedResponse> {
  let cursor = options.cursor ?? "";
  async function* connect(
    signal: AbortSignal,
    connection: Connection,
  ): AsyncGenerator<FeedResponse, ConnectError | undefined> {
    for await (const response of rpc.feed({ cursor }, { signal })) {
      connection.alive();
      if (response.cursor !== "") cursor = response.cursor;
      for (const event of response.events) {
        if (event.event.case === "ready") {
          connection.started();
          options.onStatus?.({ state: "live", cursor });
        } else {
          // Something past ready came through: this connection worked.
          connection.progressed();
        }
      }
      yield response;
    }
    return undefined;
  }
  yield* reconnecting(connect, { signal: options.signal, onStatus: options.onStatus }, tuning);
}
