import { Command } from "commander";
import { authorOf, authorOption, clientFor } from "../options.js";
import { Output } from "../output.js";

/** `parley send ROOM TEXT`: post one message, print it as stored. */
export function sendCommand(): Command {
  return new Command("send")
    .description("post one message and print it with its seq")
    .argument("<room>", "the room")
    .argument("<text>", "the message")
    .addOption(authorOption())
    .option("--id <key>", "idempotency key (default: a new UUID; retries reuse it)")
    .option("--json", "print the stored message as JSON")
    .action(
      async (
        room: string,
        text: string,
        opts: { as: string; id?: string; json?: boolean },
        cmd: Command,
      ) => {
        const message = await clientFor(cmd).send(
          room,
          authorOf(cmd),
          text,
          opts.id ? { clientMessageId: opts.id } : {},
        );
        new Output(Boolean(opts.json)).message(message);
      },
    );
}
