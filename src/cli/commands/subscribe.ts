import { Command } from "commander";
import { authorOf, authorOption, clientFor, wholeNumber } from "../options.js";
import { Output } from "../output.js";

/** `parley subscribe ROOM`: follow a room, reconnecting and resuming by itself. */
export function subscribeCommand(): Command {
  return new Command("subscribe")
    .description("follow a room's messages; reconnects and resumes without gaps")
    .argument("<room>", "the room")
    .option("--since <seq>", "replay messages after this seq first", wholeNumber("--since"))
    .option("--epoch <epoch>", "the epoch --since belongs to")
    .addOption(authorOption())
    .option("--count <n>", "exit after this many messages", wholeNumber("--count", 1))
    .option("--json", "one JSON event per line (messages, join, leave, heartbeat, ready)")
    .action(
      async (
        room: string,
        opts: { since?: number; epoch?: string; as: string; count?: number; json?: boolean },
        cmd: Command,
      ) => {
        const out = new Output(Boolean(opts.json));
        const stop = new AbortController();
        process.once("SIGINT", () => stop.abort());
        let messages = 0;
        const events = clientFor(cmd).subscribe(room, {
          sinceSeq: opts.since === undefined ? undefined : BigInt(opts.since),
          epoch: opts.epoch,
          author: authorOf(cmd),
          signal: stop.signal,
          onStatus: (s) => {
            if (s.state === "retrying") {
              out.status(
                `connection lost (${s.error.rawMessage}); retrying in ${Math.round(s.delayMs)} ms`,
              );
            }
          },
        });
        for await (const event of events) {
          out.event(event);
          if (event.event.case === "message" && ++messages === opts.count) break;
        }
      },
    );
}
