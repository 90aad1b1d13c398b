import { Code, type ConnectError } from "@connectrpc/connect";
import { resumeError } from "../rooms/resume-errors.js";
import type { RoomHead } from "../store/message-log.js";

/**
 * Check where a feed resumes a room against the room's log, as Subscribe
 * checks since_seq: OUT_OF_RANGE with a ResumeError detail (the room's
 * range) when the position is ahead of the last seq or older than what the
 * room retains, the message naming the room. Undefined when it can start.
 */
export function checkFeedResume(
  room: string,
  since: number,
  head: RoomHead,
): ConnectError | undefined {
  if (since > head.lastSeq) {
    return resumeError(
      `cursor: room "${room}" at seq ${since} is ahead of its last seq ${head.lastSeq}; open the feed without a cursor after reading ListMyRooms and History`,
      Code.OutOfRange,
      head,
    );
  }
  if (head.firstSeq > 0 && since < head.firstSeq - 1) {
    return resumeError(
      `cursor: room "${room}" at seq ${since} is older than the room retains: the oldest available seq is ${head.firstSeq}, so seqs ${since + 1}..${head.firstSeq - 1} are gone; read History, then open the feed without a cursor`,
      Code.OutOfRange,
      head,
    );
  }
  return undefined;
}
