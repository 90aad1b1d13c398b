#!/usr/bin/env node
import { configFrom, serverCommand } from "./config.js";
import { runServer } from "./server/run-server.js";

// `npm start`: flags and env -> config -> server until SIGINT/SIGTERM.
await runServer(configFrom(serverCommand().parse(process.argv)));
