/**
 * The store used when none is configured. Its own module so that the CLI's
 * client commands can name it without loading every store engine.
 */
export const DEFAULT_STORE = "sqlite:./data/parley.db";
