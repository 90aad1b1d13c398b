import { Code, ConnectError } from "@connectrpc/connect";
import type {
  ListenerRequest,
  ListenerResponse,
  ListenerRoomSummary,
} from "../../gen/chat/v1/chat_pb.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { AppendResult } from "../store/message-log.js";
import { abortable } from "./abortable.js";
import {
  invalidArgument,
  validAuthor,
  validClientMessageId,
  validRoom,
  validText,
} from "./validate.js";

/** Appends a Listener stream may have in flight before it waits for the oldest. */
const MAX_IN_FLIGHT = 256;

/** Running totals of a Listener stream. */
class Summary {
  accepted = 0n;
  firstSeq = 0n;
  lastSeq = 0n;
  private readonly rooms = new Map<string, ListenerRoomSummary>();

  add(result: AppendResult): void {
    const seq = BigInt(result.message.seq);
    this.accepted++;
    if (this.firstSeq === 0n) this.firstSeq = seq;
    this.lastSeq = seq;
    const room = this.rooms.get(result.message.room);
    if (!room) {
      this.rooms.set(result.message.room, {
        $typeName: "chat.v1.ListenerRoomSummary",
        room: result.message.room,
        accepted: 1n,
        firstSeq: seq,
        lastSeq: seq,
      });
      return;
    }
    room.accepted++;
    if (seq < room.firstSeq) room.firstSeq = seq;
    if (seq > room.lastSeq) room.lastSeq = seq;
  }

  describe(): string {
    return this.accepted === 0n
      ? "no earlier request was stored"
      : `the ${this.accepted} earlier requests were stored (first_seq ${this.firstSeq}, last_seq ${this.lastSeq})`;
  }

  toResponse(): Omit<ListenerResponse, "$typeName"> {
    return {
      accepted: this.accepted,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      rooms: [...this.rooms.values()],
    };
  }
}

/**
 * Store a Listener stream's messages as they arrive and summarise them.
 * Validation is synchronous, so appends are pipelined (up to MAX_IN_FLIGHT)
 * without giving up order: the hub publishes and the store numbers them in
 * call order. A bad request ends the call with INVALID_ARGUMENT naming its
 * index and saying what was stored before it.
 */
export async function runListener(
  hub: RoomHub,
  requests: AsyncIterable<ListenerRequest>,
  signal: AbortSignal,
): Promise<Omit<ListenerResponse, "$typeName">> {
  const summary = new Summary();
  const inFlight: Promise<AppendResult>[] = [];
  const settleOldest = async () => summary.add(await (inFlight.shift() as Promise<AppendResult>));
  let room = "";
  let author = "";
  let index = 0;
  try {
    for await (const req of abortable(requests, signal)) {
      const field = (name: string) => `requests[${index}].${name}`;
      if (req.room !== "") room = validRoom(field("room"), req.room);
      else if (room === "")
        throw invalidArgument(field("room"), "is required on the first request");
      if (req.author !== "") author = validAuthor(field("author"), req.author);
      else if (author === "")
        throw invalidArgument(field("author"), "is required on the first request");
      const text = validText(field("text"), req.text);
      const clientMessageId = validClientMessageId(field("client_message_id"), req.clientMessageId);
      inFlight.push(hub.append(room, { author, text, clientMessageId }));
      if (inFlight.length >= MAX_IN_FLIGHT) await settleOldest();
      index++;
    }
    while (inFlight.length > 0) await settleOldest();
  } catch (error) {
    // Everything already handed to the store is stored; count it before reporting.
    const results = await Promise.allSettled(inFlight);
    for (const r of results) if (r.status === "fulfilled") summary.add(r.value);
    const cause = ConnectError.from(error);
    if (cause.code !== Code.InvalidArgument) throw cause;
    throw new ConnectError(`${cause.rawMessage}; ${summary.describe()}`, cause.code);
  }
  return summary.toResponse();
}
