import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import {
  type ChatRequest,
  ChatRequestSchema,
  ResumeErrorSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import type { ResumeTuning } from "../../src/client/reconnecting.js";
import {
  type OpenEvents,
  resumingEvents,
  type SubscribeOptions,
} from "../../src/client/resuming-subscribe.js";
import type { RoomFeed } from "./room-feed.js";

/** As the client library's subscriptions, with a person's quicker backoff. */
const TUNING: Omit<ResumeTuning, "contact"> = {
  backoff: { initialDelayMs: 250, maxDelayMs: 5000 },
  silenceTimeoutMs: 45_000,
  attempts: 30,
};

/** Refusals of one post (the server ends the stream with them): that post fails, the rest go on. */
const POST_REFUSALS = new Set([
  Code.InvalidArgument,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.FailedPrecondition,
]);

interface Pending {
  text: string;
  clientMessageId: string;
  resolve(): void;
  reject(error: ConnectError): void;
}

/**
 * A room over one Chat stream: a join from the last seq shown, then posts,
 * and the room's events back on the same stream. A lost stream is opened
 * again from the last seq received (the client library's resume rules), and
 * posts not yet seen back are sent again on it with the same
 * client_message_id, so none is lost and none is stored twice. A post is
 * done when its message comes back; one the server refuses fails alone.
 */
export function chatFeed(
  api: ParleyClient,
  room: string,
  author: string,
  options: SubscribeOptions,
): RoomFeed {
  const pending: Pending[] = [];
  /** Wake the open streams' request sides: a post was added. */
  const wakers = new Set<() => void>();
  const open: OpenEvents = (from, signal) => {
    async function* requests(): AsyncGenerator<ChatRequest> {
      yield create(ChatRequestSchema, {
        action: { case: "join", value: { room, author, ...from } },
      });
      // Everything not yet seen back goes out on each stream, this one's first time round included.
      const sent = new Set<string>();
      while (!signal.aborted) {
        const next = pending.find((p) => !sent.has(p.clientMessageId));
        if (next === undefined) {
          await added(signal);
          continue;
        }
        sent.add(next.clientMessageId);
        yield create(ChatRequestSchema, {
          action: {
            case: "post",
            value: { text: next.text, clientMessageId: next.clientMessageId },
          },
        });
      }
    }
    return api.rpc.chat(requests(), { signal });
  };
  /** Resolves when a post is added or `signal` aborts. */
  const added = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        wakers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      wakers.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  const retryAlso = (failure: ConnectError): boolean => {
    // A join refused for a per-user rate or cap: it passes again shortly.
    if (failure.code === Code.ResourceExhausted) return true;
    if (!POST_REFUSALS.has(failure.code)) return false;
    // The join's resume point refused (it carries the room's range): no post
    // was read, so none failed; the room view starts afresh and posts them again.
    if (failure.findDetails(ResumeErrorSchema).length > 0) return false;
    const refused = pending.shift();
    refused?.reject(failure);
    return refused !== undefined;
  };
  async function* events() {
    for await (const event of resumingEvents(
      room,
      open,
      { ...options, author },
      {
        ...TUNING,
        contact: { reached: false, failFastWhenUnreachable: false },
      },
      retryAlso,
    )) {
      if (event.event.case === "message") {
        const id = event.event.value.clientMessageId;
        const i = id === "" ? -1 : pending.findIndex((p) => p.clientMessageId === id);
        if (i >= 0) pending.splice(i, 1)[0]?.resolve();
      }
      yield event;
    }
  }
  return {
    events: events(),
    post: (text, clientMessageId) =>
      new Promise<void>((resolve, reject) => {
        pending.push({ text, clientMessageId, resolve, reject });
        for (const wake of [...wakers]) wake();
      }),
  };
}
