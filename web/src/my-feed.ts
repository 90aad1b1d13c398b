import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelay, sleep } from "../../src/client/backoff.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import type { MyRooms } from "./my-rooms.js";

/** Refusals of a cursor (malformed, another user's, past retention): start afresh without it. */
const CURSOR_REFUSED = new Set([Code.InvalidArgument, Code.OutOfRange]);

/**
 * Follow the signed-in person's Feed (one stream for every room and
 * conversation they belong to) into `rooms`, until `signal` aborts. The
 * client library resumes a lost stream from the last cursor by itself; the
 * cursor is also kept here, in memory (one per tab), so a feed that failed
 * for good is opened again from it after a pause. A cursor the server
 * refuses is dropped: the next feed's ready event carries every count the
 * page shows, so starting live loses nothing it needs.
 */
export async function followMyFeed(
  api: ParleyClient,
  rooms: MyRooms,
  signal: AbortSignal,
): Promise<void> {
  let cursor = "";
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      for await (const response of api.feed({ cursor, signal })) {
        attempt = 0;
        if (response.cursor !== "") cursor = response.cursor;
        for (const event of response.events) rooms.apply(event);
      }
    } catch (error) {
      if (CURSOR_REFUSED.has(ConnectError.from(error).code)) cursor = "";
    }
    try {
      await sleep(backoffDelay(attempt, { initialDelayMs: 1000, maxDelayMs: 10_000 }), signal);
    } catch {
      return;
    }
  }
}
