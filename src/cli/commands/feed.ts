import { toJsonString } from "@bufbuild/protobuf";
import { Command } from "commander";
import { FeedResponseSchema } from "../../../gen/chat/v1/chat_pb.js";
import { authorOf, authorOption, clientFor, wholeNumber } from "../options.js";
import { count, Output, shellWord } from "../output.js";
import { RoomLabels } from "../room-labels.js";

/**
 * `parley feed`: everything addressed to me, from every room and
 * conversation I belong to, on one stream that reconnects and resumes by
 * itself. On exit it says how to resume where it stopped.
 */
export function feedCommand(): Command {
  return new Command("feed")
    .description(
      "follow every room and conversation you belong to on one stream; reconnects and resumes without gaps",
    )
    .addOption(authorOption())
    .option("--cursor <cursor>", "resume after this cursor (printed when a feed ends)")
    .option("--count <n>", "exit after this many messages", wholeNumber("--count", 1))
    .option("--json", "one JSON response (events and cursor) per line")
    .action(async (opts: { cursor?: string; count?: number; json?: boolean }, cmd: Command) => {
      const out = new Output(Boolean(opts.json));
      const labels = new RoomLabels(authorOf(cmd));
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      let cursor = opts.cursor ?? "";
      let messages = 0;
      const feed = clientFor(cmd).feed({
        cursor,
        signal: stop.signal,
        onStatus: (s) => {
          if (s.state === "retrying") {
            out.status(
              `connection lost (${s.error.rawMessage}); retrying in ${Math.round(s.delayMs)} ms`,
            );
          }
        },
      });
      try {
        responses: for await (const response of feed) {
          cursor = response.cursor;
          if (out.json) out.line(toJsonString(FeedResponseSchema, response));
          for (const { event } of response.events) {
            switch (event.case) {
              case "ready": {
                for (const room of event.value.rooms) labels.learn(room);
                const unread = event.value.rooms.reduce((n, r) => n + r.unread, 0n);
                out.status(
                  `following ${count(event.value.rooms.length, "room")} (${unread} unread)`,
                );
                break;
              }
              case "message":
                if (!out.json) {
                  const where = out.style("cyan", labels.of(event.value.room));
                  out.line(`${where} ${out.formatMessage(event.value)}`);
                }
                if (++messages === opts.count) break responses;
                break;
              case "joined":
                labels.learn(event.value);
                out.status(`→ you joined ${labels.of(event.value.room)}`);
                break;
              case "left":
                out.status(`← you left ${labels.of(event.value.room)}`);
                break;
              case "read":
                out.status(`read ${labels.of(event.value.room)} up to #${event.value.readSeq}`);
                break;
              default:
                break;
            }
          }
        }
      } finally {
        if (cursor !== "") {
          // After Ctrl-C a terminal has echoed "^C" with no newline: start a line of our own.
          const fresh = stop.signal.aborted && process.stderr.isTTY ? "\n" : "";
          out.status(`${fresh}resume with: ${resumeCommand(cmd, cursor)}`);
        }
      }
    });
}

/**
 * The command that resumes this feed: the cursor is the caller's own, so it
 * names who (--as, unless a token says who) and, when given as a flag, where.
 */
function resumeCommand(cmd: Command, cursor: string): string {
  const words = ["parley"];
  const root = cmd.parent;
  if (root?.getOptionValueSource("url") === "cli") words.push("--url", shellWord(root.opts().url));
  words.push("feed");
  const as = authorOf(cmd);
  if (as !== "") words.push("--as", shellWord(as));
  words.push("--cursor", cursor);
  return words.join(" ");
}
