import { Code, ConnectError } from "@connectrpc/connect";
import type {
  ListenerRequest,
  ListenerResponse,
  ListenerRoomSummary,
} from "../../gen/chat/v1/chat_pb.js";
import type { CallScope } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
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

/**
 * The refusals of one request that end the stream and say what was stored
 * before it (ALREADY_EXISTS: a reused client_message_id with another payload).
 */
const REFUSALS = new Set([
  Code.InvalidArgument,
  Code.PermissionDenied,
  Code.ResourceExhausted,
  Code.AlreadyExists,
]);

/**
 * A store's refusal of one append (a reused client_message_id), with the
 * field named as the other refusals of a Listener request name theirs.
 */
function atRequest(error: unknown, index: number): unknown {
  if (!(error instanceof ConnectError) || error.code !== Code.AlreadyExists) return error;
  return new ConnectError(`requests[${index}].${error.rawMessage}`, error.code);
}

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
      : `the ${this.accepted} earlier ${this.accepted === 1n ? "request was" : "requests were"} stored (first_seq ${this.firstSeq}, last_seq ${this.lastSeq})`;
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
  gate: Gate,
  requests: AsyncIterable<ListenerRequest>,
  scope: CallScope,
): Promise<Omit<ListenerResponse, "$typeName">> {
  const { call } = scope;
  const summary = new Summary();
  const inFlight: Promise<AppendResult>[] = [];
  // Memberships begun by this stream's posts: the answer waits for them, as Send's does.
  const joins: Promise<void>[] = [];
  const stored = (result: AppendResult) => {
    summary.add(result);
    const joined = gate.posted(call, result.message);
    if (joined !== undefined) joins.push(joined);
  };
  const settleOldest = async () => stored(await (inFlight.shift() as Promise<AppendResult>));
  // An append the store refuses ends the call at once, even while the client
  // has not sent its next request: the refusal aborts the request reading.
  const refused = new AbortController();
  const signal = AbortSignal.any([scope.signal, refused.signal]);
  let room = "";
  let author = "";
  let index = 0;
  try {
    for await (const req of abortable(requests, signal)) {
      const field = (name: string) => `requests[${index}].${name}`;
      if (req.room !== "") room = validRoom(field("room"), req.room);
      else if (room === "")
        throw invalidArgument(field("room"), "is required on the first request");
      const allowed = gate.room(call, room, "write");
      if (req.author !== "") {
        author = validAuthor(field("author"), gate.author(call, field("author"), req.author));
      } else if (author === "") {
        // With identity an empty author is the token's subject.
        author = gate.author(call, field("author"), "");
        if (author === "")
          throw invalidArgument(field("author"), "is required on the first request");
      }
      const text = validText(field("text"), req.text);
      const clientMessageId = validClientMessageId(field("client_message_id"), req.clientMessageId);
      // A conversation's participants are checked before the post counts or is stored.
      if (allowed !== undefined) await allowed;
      gate.take(call, "sends");
      const appended = hub.append(room, { author, text, clientMessageId });
      const at = index;
      appended.catch((error: unknown) => refused.abort(atRequest(error, at)));
      inFlight.push(appended);
      if (inFlight.length >= MAX_IN_FLIGHT) await settleOldest();
      index++;
    }
    while (inFlight.length > 0) await settleOldest();
    await Promise.all(joins);
  } catch (error) {
    // Everything already handed to the store is stored; count it before reporting.
    const results = await Promise.allSettled(inFlight);
    for (const r of results) if (r.status === "fulfilled") stored(r.value);
    // The first refused append is the one to report, whichever failure surfaced first.
    const cause = ConnectError.from(refused.signal.aborted ? refused.signal.reason : error);
    if (!REFUSALS.has(cause.code)) throw error;
    const refusal = new ConnectError(`${cause.rawMessage}; ${summary.describe()}`, cause.code);
    refusal.details.push(...cause.details);
    throw refusal;
  }
  return summary.toResponse();
}
