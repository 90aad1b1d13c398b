import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Command } from "commander";
import type { ChatRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import { inputLines, printAbovePrompt } from "../lines.js";
import { authorOf, authorOption, clientFor, wholeNumber } from "../options.js";
import { Output } from "../output.js";

/**
 * `parley chat ROOM --as NAME`: an interactive room over the Chat bidi
 * stream. Incoming messages print above the prompt. At end of input it
 * waits until its own messages have come back (stored), then exits.
 */
export function chatCommand(): Command {
  return new Command("chat")
    .description("talk in a room over one Chat stream; incoming messages print above the prompt")
    .argument("<room>", "the room")
    .addOption(authorOption())
    .option("--since <seq>", "replay messages after this seq first", wholeNumber("--since"))
    .option("--json", "one JSON event per line")
    .action((room: string, opts: ChatOptions, cmd: Command) => chatIn(cmd, room, opts));
}

/** What `parley chat` takes besides the room. */
export interface ChatOptions {
  since?: number | undefined;
  json?: boolean | undefined;
}

/**
 * Talk in `room` (a room, or a conversation's id) over one Chat stream until
 * input ends and the last message sent has come back; `parley chat` and
 * `parley dm` both do this.
 */
export async function chatIn(cmd: Command, room: string, opts: ChatOptions): Promise<void> {
  const out = new Output(Boolean(opts.json));
  // Empty with a token and no --as: the server takes the token's subject.
  const author = authorOf(cmd);
  const { lines, rl } = inputLines(`${author || "me"}> `);
  const waiting = new Set<string>();
  let inputEnded = false;
  const stop = new AbortController();
  async function* requests(): AsyncGenerator<MessageInitShape<typeof ChatRequestSchema>> {
    yield {
      action: {
        case: "join",
        value: {
          room,
          author,
          sinceSeq: opts.since === undefined ? undefined : BigInt(opts.since),
        },
      },
    };
    for await (const text of lines) {
      if (text.trim() === "") continue;
      const clientMessageId = randomUUID();
      waiting.add(clientMessageId);
      yield { action: { case: "post", value: { text, clientMessageId } } };
    }
    inputEnded = true;
    if (waiting.size === 0) stop.abort();
  }
  try {
    for await (const response of clientFor(cmd).rpc.chat(requests(), {
      signal: stop.signal,
    })) {
      for (const event of response.events) {
        const e = event.event;
        const text = out.formatEvent(event);
        if (text !== undefined) printAbovePrompt(rl, text);
        else if (e.case === "ready") {
          // A status (stderr), but above the prompt like every line here.
          printAbovePrompt(
            rl,
            out.style(
              "dim",
              `joined ${room} as ${author || "the token's subject"} (epoch ${e.value.epoch}, last seq ${e.value.lastSeq})`,
            ),
            process.stderr,
          );
        }
        if (
          e.case === "message" &&
          waiting.delete(e.value.clientMessageId) &&
          inputEnded &&
          waiting.size === 0
        ) {
          stop.abort();
        }
      }
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    rl.close();
  }
}
