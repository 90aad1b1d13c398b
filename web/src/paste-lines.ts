import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ListenerRequest, ListenerRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import { retryDelayMs } from "../../src/wire/retry-info.js";
import { newClientMessageId } from "./client-message-id.js";
import type { LinkMode } from "./page-link.js";

/**
 * The shortest wait after a send-rate refusal. RetryInfo names when ONE more
 * send is allowed; waiting a second lets the next round carry a second's
 * worth of the sender's rate instead of a single line.
 */
const MIN_WAIT_MS = 1000;
/** Rounds in a row that may store nothing before the paste gives up. */
const MAX_EMPTY_ROUNDS = 2;

/** The lines of a paste worth posting one by one: trimmed, blank ones left out. */
export function pastedLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** A line to post, with the key that makes sending it again store it once. */
interface Line {
  text: string;
  clientMessageId: string;
}

/** What has been stored so far, over every round. */
class Stored {
  accepted = 0n;
  firstSeq = 0n;
  lastSeq = 0n;

  add(accepted: bigint, firstSeq: bigint, lastSeq: bigint): void {
    if (accepted === 0n) return;
    this.accepted += accepted;
    if (this.firstSeq === 0n) this.firstSeq = firstSeq;
    this.lastSeq = lastSeq;
  }

  range(): string {
    return this.firstSeq === this.lastSeq
      ? `#${this.firstSeq}`
      : `#${this.firstSeq}–#${this.lastSeq}`;
  }
}

/**
 * Post `texts` to `room` as one message each and say how it went, as the
 * page shows it. Over the WebSocket they go on ONE Listener stream, whose
 * summary (ListenerResponse: accepted, first and last seq) is the report;
 * over fetch, which cannot stream a request, one Send each, summed up the
 * same way. A paste longer than the sender's rate allows is paced: at the
 * server's RESOURCE_EXHAUSTED (with RetryInfo) the page finds which lines
 * were stored, says so through `onWait`, waits and sends the rest, so no
 * line is lost. Any other refusal ends it, saying what was stored.
 */
export async function postLines(
  api: ParleyClient,
  mode: LinkMode,
  room: string,
  author: string,
  texts: readonly string[],
  onWait: (text: string) => void = () => {},
): Promise<{ text: string; ok: boolean }> {
  const how = mode === "websocket" ? "over one Listener stream" : `with ${texts.length} Send calls`;
  let pending: Line[] = texts.map((text) => ({ text, clientMessageId: newClientMessageId() }));
  const stored = new Stored();
  let waitedMs = 0;
  for (let emptyRounds = 0; ; ) {
    const before = stored.accepted;
    try {
      if (mode === "websocket") {
        const r = await api.rpc.listener(requests(room, author, pending));
        stored.add(r.accepted, r.firstSeq, r.lastSeq);
        pending = [];
      } else {
        await sendEach(api, room, author, pending, stored);
      }
      const paced =
        waitedMs === 0 ? "" : ` (paced by your send limit: ${seconds(waitedMs)} s of waiting)`;
      return {
        text: `Pasted ${texts.length} lines: ${stored.accepted} messages stored, ${stored.range()}, ${how}${paced}.`,
        ok: stored.accepted === BigInt(texts.length),
      };
    } catch (error) {
      const e = ConnectError.from(error);
      const delay = e.code === Code.ResourceExhausted ? retryDelayMs(e) : undefined;
      if (mode === "websocket" && delay !== undefined) {
        // Unread, the lines all go again: their keys store each one once all the same.
        pending = await withoutStored(api, room, pending, stored).catch(() => pending);
      }
      emptyRounds = stored.accepted === before ? emptyRounds + 1 : 0;
      if (delay === undefined || emptyRounds > MAX_EMPTY_ROUNDS) {
        const sofar = waitedMs === 0 ? "" : ` (${stored.accepted} stored before it)`;
        return {
          text: `Pasted ${texts.length} lines, ${how}, but: ${e.rawMessage}${sofar}`,
          ok: false,
        };
      }
      const wait = Math.max(delay, MIN_WAIT_MS);
      onWait(
        `Pasted ${texts.length} lines: ${stored.accepted} stored so far; your send limit was reached, so the other ${pending.length} follow in ${seconds(wait)} s…`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      waitedMs += wait;
    }
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** The Listener requests: the first names room and author, the rest repeat them (empty). */
async function* requests(
  room: string,
  author: string,
  lines: readonly Line[],
): AsyncGenerator<ListenerRequest> {
  for (const [i, line] of lines.entries()) {
    yield create(ListenerRequestSchema, {
      room: i === 0 ? room : "",
      author: i === 0 ? author : "",
      text: line.text,
      clientMessageId: line.clientMessageId,
    });
  }
}

/**
 * After a Listener refused part-way: the lines it did not store. The room's
 * newest messages say which keys are stored (others may have posted in
 * between, hence the margin); a stored line missed here is sent again under
 * its key and stored once all the same.
 */
async function withoutStored(
  api: ParleyClient,
  room: string,
  pending: readonly Line[],
  stored: Stored,
): Promise<Line[]> {
  const page = await api.rpc.history({ room, limit: Math.min(1000, pending.length + 100) });
  const keys = new Set(pending.map((l) => l.clientMessageId));
  const kept = page.messages.filter((m) => keys.has(m.clientMessageId));
  const keptKeys = new Set(kept.map((m) => m.clientMessageId));
  stored.add(BigInt(kept.length), kept[0]?.seq ?? 0n, kept.at(-1)?.seq ?? 0n);
  return pending.filter((l) => !keptKeys.has(l.clientMessageId));
}

/** The fetch path: one Send per line, in order; each stored line leaves `pending` as it is acknowledged. */
async function sendEach(
  api: ParleyClient,
  room: string,
  author: string,
  pending: Line[],
  stored: Stored,
): Promise<void> {
  for (let line = pending[0]; line !== undefined; line = pending[0]) {
    const message = await api.send(room, author, line.text, {
      clientMessageId: line.clientMessageId,
    });
    stored.add(1n, message.seq, message.seq);
    pending.shift();
  }
}
