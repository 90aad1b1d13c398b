#!/usr/bin/env node
import { configFrom, serverCommand } from "./config.js";
import { createLogger } from "./logger.js";
import { startParley } from "./server/parley-server.js";

// Process entry: flags and env -> config -> server; SIGINT/SIGTERM -> graceful stop.
const command = serverCommand().parse(process.argv);
const config = configFrom(command);
const logger = createLogger(config.logLevel);

try {
  const server = await startParley(config, logger);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "shutting down");
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
} catch (error) {
  logger.fatal({ err: error }, "parley could not start");
  process.exit(1);
}
