import { Code, type ConnectError } from "@connectrpc/connect";
import { ResumeErrorSchema } from "../../gen/chat/v1/chat_pb.js";

/**
 * A subscription could not continue without a hole: the room's log was
 * recreated (`epochChanged`) or the messages after the client's last seq are
 * past retention (`tooOld`). The caller decides: subscribe again from
 * `firstSeq - 1` in `epoch` (accepting the loss), or read History.
 */
export class ResumeFailedError extends Error {
  override readonly name = "ResumeFailedError";

  constructor(
    /** Why: the log's epoch changed, or the resume point is out of range. */
    readonly reason: "epochChanged" | "tooOld" | "ahead",
    /** The room. */
    readonly room: string,
    /** The last seq this client delivered (undefined if none). */
    readonly lastSeq: bigint | undefined,
    /** The room's current epoch. */
    readonly epoch: string,
    /** The oldest seq the room still holds (0n when empty). */
    readonly firstSeq: bigint,
    /** The room's newest seq. */
    readonly headSeq: bigint,
    /** The server's error. */
    override readonly cause: ConnectError,
  ) {
    super(`${room}: cannot resume after seq ${lastSeq ?? "none"}: ${cause.rawMessage}`);
  }

  /** The typed error for a server error, or undefined if it is not a resume failure. */
  static from(
    error: ConnectError,
    room: string,
    lastSeq: bigint | undefined,
  ): ResumeFailedError | undefined {
    if (error.code !== Code.FailedPrecondition && error.code !== Code.OutOfRange) return undefined;
    const detail = error.findDetails(ResumeErrorSchema)[0];
    const headSeq = detail?.lastSeq ?? 0n;
    const reason =
      error.code === Code.FailedPrecondition
        ? "epochChanged"
        : lastSeq !== undefined && lastSeq > headSeq
          ? "ahead"
          : "tooOld";
    return new ResumeFailedError(
      reason,
      room,
      lastSeq,
      detail?.epoch ?? "",
      detail?.firstSeq ?? 0n,
      headSeq,
      error,
    );
  }
}
