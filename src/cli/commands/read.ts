import { Command } from "commander";
import { authorOption, clientFor, wholeNumber } from "../options.js";
import { Output } from "../output.js";

/** `parley read ROOM [SEQ]`: move my read position there (default: everything read). */
export function readCommand(): Command {
  return new Command("read")
    .description("mark a room or conversation read up to SEQ (default: its last message)")
    .argument("<room>", "the room, or a conversation's id (dm.…)")
    .argument("[seq]", "the highest seq read", wholeNumber("seq"))
    .addOption(authorOption())
    .action(async (room: string, seq: number | undefined, _opts: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const upTo =
        seq === undefined ? (await client.rpc.history({ room, limit: 1 })).lastSeq : BigInt(seq);
      const read = await client.rpc.markRead({ room, seq: upTo });
      new Output(false).status(
        read.changed
          ? `read ${room} up to #${read.readSeq} (${read.unread} unread)`
          : `already read up to #${read.readSeq} (${read.unread} unread)`,
      );
    });
}
