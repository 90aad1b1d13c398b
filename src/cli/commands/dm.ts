import { Command } from "commander";
import { authorOf, authorOption, clientFor, wholeNumber } from "../options.js";
import { Output } from "../output.js";
import { RoomLabels } from "../room-labels.js";
import { chatIn } from "./chat.js";

/**
 * `parley dm NAME…`: open the direct conversation with these people (the
 * same one every time), then talk there as `parley chat` does, or post one
 * message with --message.
 */
export function dmCommand(): Command {
  return new Command("dm")
    .description(
      "talk in the direct conversation with these people (opened on first use, the same one after)",
    )
    .argument("<names...>", "the other participants")
    .addOption(authorOption())
    .option("-m, --message <text>", "post this one message and exit, instead of chatting")
    .option("--since <seq>", "replay messages after this seq first", wholeNumber("--since"))
    .option("--json", "one JSON event (or the stored message) per line")
    .action(
      async (
        names: string[],
        opts: { message?: string; since?: number; json?: boolean },
        cmd: Command,
      ) => {
        const out = new Output(Boolean(opts.json));
        const client = clientFor(cmd);
        const opened = await client.rpc.openConversation({ participants: names });
        const conversation = opened.conversation;
        if (conversation === undefined) throw new Error("OpenConversation answered nothing");
        const labels = new RoomLabels(authorOf(cmd));
        labels.learn(conversation);
        const messages =
          conversation.lastSeq === 1n ? "1 message" : `${conversation.lastSeq} messages`;
        out.status(
          `${opened.created ? "opened" : "in"} ${labels.of(conversation.room)} (${conversation.room}, ${messages}, ${conversation.unread} unread)`,
        );
        if (opts.message === undefined) {
          await chatIn(cmd, conversation.room, opts);
          return;
        }
        const sent = await client.send(conversation.room, authorOf(cmd), opts.message);
        out.message(sent);
        // A post does not move one's read position (only MarkRead does): the
        // person has read what they wrote, so say so.
        await client.rpc.markRead({ room: conversation.room, seq: sent.seq });
      },
    );
}
