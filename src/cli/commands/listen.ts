import { toJsonString } from "@bufbuild/protobuf";
import { Command } from "commander";
import { ListenerResponseSchema } from "../../../gen/chat/v1/chat_pb.js";
import { inputLines } from "../lines.js";
import { authorOf, authorOption, clientFor } from "../options.js";
import { Output } from "../output.js";

/** `parley listen ROOM`: stream stdin lines into a room through Listener. */
export function listenCommand(): Command {
  return new Command("listen")
    .description("post each line of stdin to a room over one Listener stream; print the summary")
    .argument("<room>", "the room")
    .addOption(authorOption())
    .option("--json", "print the summary as JSON")
    .action(async (room: string, opts: { as: string; json?: boolean }, cmd: Command) => {
      const { lines } = inputLines("");
      const author = authorOf(cmd);
      async function* requests() {
        for await (const text of lines) {
          if (text.trim() !== "") yield { room, author, text };
        }
      }
      const summary = await clientFor(cmd).rpc.listener(requests());
      const out = new Output(Boolean(opts.json));
      if (opts.json) out.line(toJsonString(ListenerResponseSchema, summary));
      else if (summary.accepted === 0n) out.line("accepted 0 messages");
      else
        out.line(
          `accepted ${summary.accepted} messages (seq ${summary.firstSeq}..${summary.lastSeq})`,
        );
    });
}
