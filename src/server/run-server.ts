import type { Config } from "../config.js";
import { createLogger } from "../logger.js";
import { startParley } from "./parley-server.js";
import { startFailureLine } from "./start-failure.js";

/**
 * Run the server as this process's job: start it, and stop it gracefully on
 * SIGINT or SIGTERM (a second signal exits at once). Exits 1 if it cannot
 * start, after one line on stderr saying why and what to do (the JSON log
 * line on stdout keeps the details). Shared by `npm start` and `parley serve`.
 */
export async function runServer(config: Config): Promise<void> {
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
    process.stderr.write(`${startFailureLine(error, config)}\n`);
    process.exit(1);
  }
}
