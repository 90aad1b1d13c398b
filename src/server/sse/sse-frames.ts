import { toJson } from "@bufbuild/protobuf";
import { type RoomEvent, RoomEventSchema } from "../../../gen/chat/v1/chat_pb.js";

/**
 * One Server-Sent Events frame for a room event, or undefined for events SSE
 * expresses otherwise (heartbeats become comments).
 *
 * `event:` is the kind (ready, message, join, leave, typing); `data:` is the
 * proto JSON of the event's message on one line (JSON.stringify never emits a
 * raw newline). `id:` is set on messages (their seq) and on ready (the seq
 * the stream resumes after), so a browser's Last-Event-ID always names the
 * last seq it has, even before its first message.
 */
export function eventFrame(event: RoomEvent, readyId: number | undefined): string | undefined {
  const kind = event.event.case;
  if (kind === undefined || kind === "heartbeat") return undefined;
  const json = toJson(RoomEventSchema, event) as Record<string, unknown>;
  const data = JSON.stringify(json[kind] ?? {});
  const id =
    kind === "message"
      ? String(event.event.value.seq)
      : kind === "ready" && readyId !== undefined
        ? String(readyId)
        : undefined;
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${kind}\ndata: ${data}\n\n`;
}

/** A comment line: ignored by EventSource, keeps proxies and idle timers from closing the stream. */
export function keepAliveFrame(lastSeq: bigint): string {
  return `: keep-alive, last seq ${lastSeq}\n\n`;
}

/** The last frame of a stream the server ends: why, as `{"code","message"}`. */
export function endFrame(code: string, message: string): string {
  return `event: end\ndata: ${JSON.stringify({ code, message })}\n\n`;
}

/** Tells EventSource how long to wait before reconnecting (ms). */
export function retryFrame(ms: number): string {
  return `retry: ${ms}\n\n`;
}
