import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { type ListenerRequest, ListenerRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import { newClientMessageId } from "./client-message-id.js";
import type { LinkMode } from "./page-link.js";

/** The lines of a paste worth posting one by one: trimmed, blank ones left out. */
export function pastedLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/**
 * Post `lines` to `room` as one message each and say how it went, as the
 * page shows it. Over the WebSocket they go on ONE Listener stream, whose
 * summary (ListenerResponse: accepted, first and last seq) is the report;
 * over fetch, which cannot stream a request, one Send each, summed up the
 * same way. A refusal part-way says what was stored before it.
 */
export async function postLines(
  api: ParleyClient,
  mode: LinkMode,
  room: string,
  author: string,
  lines: readonly string[],
): Promise<{ text: string; ok: boolean }> {
  const how = mode === "websocket" ? "over one Listener stream" : `with ${lines.length} Send calls`;
  try {
    const { accepted, firstSeq, lastSeq } =
      mode === "websocket"
        ? await api.rpc.listener(requests(room, author, lines))
        : await sendEach(api, room, author, lines);
    const range = firstSeq === lastSeq ? `#${firstSeq}` : `#${firstSeq}–#${lastSeq}`;
    return {
      text: `Pasted ${lines.length} lines: ${accepted} messages stored, ${range}, ${how}.`,
      ok: accepted === BigInt(lines.length),
    };
  } catch (error) {
    return {
      text: `Pasted ${lines.length} lines, ${how}, but: ${ConnectError.from(error).rawMessage}`,
      ok: false,
    };
  }
}

/** The Listener requests: the first names room and author, the rest repeat them (empty). */
async function* requests(
  room: string,
  author: string,
  lines: readonly string[],
): AsyncGenerator<ListenerRequest> {
  for (const [i, text] of lines.entries()) {
    yield create(ListenerRequestSchema, {
      room: i === 0 ? room : "",
      author: i === 0 ? author : "",
      text,
      clientMessageId: newClientMessageId(),
    });
  }
}

/** The fetch path: one Send per line, in order, with Listener's summary. */
async function sendEach(api: ParleyClient, room: string, author: string, lines: readonly string[]) {
  let firstSeq = 0n;
  let lastSeq = 0n;
  for (const text of lines) {
    const message = await api.send(room, author, text);
    if (firstSeq === 0n) firstSeq = message.seq;
    lastSeq = message.seq;
  }
  return { accepted: BigInt(lines.length), firstSeq, lastSeq };
}
