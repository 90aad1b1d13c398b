import { Code, ConnectError } from "@connectrpc/connect";
import { ResumeErrorSchema } from "../../gen/chat/v1/chat_pb.js";
import type { RoomHead } from "../store/message-log.js";

/** Where a subscription asks to start. */
export interface ResumePoint {
  /** The last seq the client has; undefined starts live. */
  sinceSeq: number | undefined;
  /** The epoch the client's sinceSeq belongs to; "" skips the check. */
  epoch: string;
}

/** A resume refusal with its ResumeError detail (the room's range). */
export function resumeError(message: string, code: Code, head: RoomHead): ConnectError {
  return new ConnectError(message, code, undefined, [
    {
      desc: ResumeErrorSchema,
      value: { epoch: head.epoch, firstSeq: BigInt(head.firstSeq), lastSeq: BigInt(head.lastSeq) },
    },
  ]);
}

/**
 * Check a resume point against the room's log. Returns the error to end the
 * stream with, or undefined when the stream can start: a client is never
 * silently given a hole.
 */
export function checkResume(
  room: string,
  point: ResumePoint,
  head: RoomHead,
): ConnectError | undefined {
  if (point.epoch !== "" && point.epoch !== head.epoch) {
    return resumeError(
      `epoch "${point.epoch}" does not match room "${room}" epoch "${head.epoch}": the room's log was recreated, so seqs from the old epoch mean nothing; subscribe again without since_seq (or with since_seq 0 to replay the new log)`,
      Code.FailedPrecondition,
      head,
    );
  }
  const since = point.sinceSeq;
  if (since === undefined) return undefined;
  if (since > head.lastSeq) {
    return resumeError(
      `since_seq ${since} is ahead of room "${room}": its last seq is ${head.lastSeq}`,
      Code.OutOfRange,
      head,
    );
  }
  if (head.firstSeq > 0 && since < head.firstSeq - 1) {
    return resumeError(
      `since_seq ${since} is older than room "${room}" retains: the oldest available seq is ${head.firstSeq}, so seqs ${since + 1}..${head.firstSeq - 1} are gone; resume with since_seq >= ${head.firstSeq - 1} or read History`,
      Code.OutOfRange,
      head,
    );
  }
  return undefined;
}

/** Messages needed for a resume were trimmed by retention while it ran. */
export function trimmedWhileReading(
  room: string,
  wanted: number,
  got: number | undefined,
): ConnectError {
  return new ConnectError(
    `room "${room}": seq ${wanted} was trimmed by retention before it could be delivered${got === undefined ? "" : ` (oldest now ${got})`}; resume from an available seq or read History`,
    Code.OutOfRange,
  );
}
