#!/usr/bin/env node
import { Command } from "commander";
import { configFrom, serverCommand } from "../config.js";
import { backupCommand } from "./commands/backup.js";
import { chatCommand } from "./commands/chat.js";
import { dmCommand } from "./commands/dm.js";
import { echoCommand } from "./commands/echo.js";
import { feedCommand } from "./commands/feed.js";
import { historyCommand } from "./commands/history.js";
import { listenCommand } from "./commands/listen.js";
import { loginCommand } from "./commands/login.js";
import { readCommand } from "./commands/read.js";
import { roomsCommand } from "./commands/rooms.js";
import { sendCommand } from "./commands/send.js";
import { subscribeCommand } from "./commands/subscribe.js";
import { tokenCommand } from "./commands/token.js";
import { addGlobalOptions, type GlobalOptions } from "./options.js";
import { printError } from "./output.js";

// The `parley` command: `serve` runs the server; `backup` copies its SQLite
// file; the others are clients.
const program = addGlobalOptions(
  new Command("parley").description("Parley chat rooms: run the server, or talk to one"),
);
program.addCommand(
  serverCommand("serve")
    .description("run the server (the same as npm start)")
    .action(async (_opts, cmd: Command) => {
      // Loaded here, not above: the client commands must not pay for the server.
      const { runServer } = await import("../server/run-server.js");
      await runServer(configFrom(cmd));
    }),
);
for (const command of [
  sendCommand(),
  subscribeCommand(),
  historyCommand(),
  listenCommand(),
  echoCommand(),
  chatCommand(),
  dmCommand(),
  feedCommand(),
  roomsCommand(),
  readCommand(),
  loginCommand(),
  tokenCommand(),
  backupCommand(),
]) {
  program.addCommand(command);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  printError(error, program.opts<GlobalOptions>().url);
  process.exitCode = 1;
}
