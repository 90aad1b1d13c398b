import { Command } from "commander";
import { authorOption, clientFor, wholeNumber } from "../options.js";
import { Output } from "../output.js";

/** `parley history ROOM`: a page of stored messages, oldest first. */
export function historyCommand(): Command {
  return new Command("history")
    .description("print stored messages, oldest first (default: the newest 50)")
    .argument("<room>", "the room")
    .addOption(authorOption())
    .option("--before <seq>", "only messages before this seq", wholeNumber("--before", 1))
    .option("--after <seq>", "only messages after this seq (pages forward)", wholeNumber("--after"))
    .option("--limit <n>", "at most this many (1-1000)", wholeNumber("--limit", 1))
    .option("--json", "one JSON message per line")
    .action(
      async (
        room: string,
        opts: { before?: number; after?: number; limit?: number; json?: boolean },
        cmd: Command,
      ) => {
        const page = await clientFor(cmd).rpc.history({
          room,
          beforeSeq: BigInt(opts.before ?? 0),
          afterSeq: opts.after === undefined ? undefined : BigInt(opts.after),
          limit: opts.limit ?? 0,
        });
        const out = new Output(Boolean(opts.json));
        for (const m of page.messages) out.message(m);
        if (page.hasMore && !opts.json) out.status("(more: page with --before or --after)");
      },
    );
}
