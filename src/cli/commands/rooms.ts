import { toJsonString } from "@bufbuild/protobuf";
import { Command } from "commander";
import { MyRoomSchema, RoomSummarySchema } from "../../../gen/chat/v1/chat_pb.js";
import { authorOf, authorOption, clientFor } from "../options.js";
import { count, Output } from "../output.js";
import { RoomLabels } from "../room-labels.js";

/** `parley rooms`: the rooms there are; with --mine, mine with their unread counts. */
export function roomsCommand(): Command {
  return new Command("rooms")
    .description("list rooms (the first 1000); --mine: your rooms and conversations, with unread")
    .addOption(authorOption())
    .option("--mine", "the rooms and conversations you belong to, with unread counts")
    .option("--json", "one JSON room per line")
    .action(async (opts: { mine?: boolean; json?: boolean }, cmd: Command) => {
      const out = new Output(Boolean(opts.json));
      const client = clientFor(cmd);
      if (!opts.mine) {
        const page = await client.rpc.listRooms({ limit: 1000 });
        for (const r of page.rooms) {
          out.line(
            out.json
              ? toJsonString(RoomSummarySchema, r)
              : `#${r.room}  last #${r.lastSeq}  ${r.memberCount} here now`,
          );
        }
        if (page.hasMore && !out.json) out.status("(more rooms than these 1000)");
        return;
      }
      const mine = await client.rpc.listMyRooms({});
      const labels = new RoomLabels(authorOf(cmd));
      for (const r of mine.rooms) {
        labels.learn(r);
        out.line(
          out.json
            ? toJsonString(MyRoomSchema, r)
            : `${labels.of(r.room)}  ${r.unread} unread  (read #${r.readSeq} of #${r.lastSeq})`,
        );
      }
      if (!out.json)
        out.status(`${mine.unreadTotal} unread in ${count(mine.rooms.length, "room")}`);
    });
}
