import { userInfo } from "node:os";
import { type Command, InvalidArgumentError, Option } from "commander";
import { createParleyClient, type ParleyClient, type Protocol } from "../client/index.js";

/** Options every client command reads from the parent program. */
export interface GlobalOptions {
  url: string;
  protocol: Protocol;
}

/** --url and --protocol, on the program so every command shares them. */
export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(
      new Option("--url <url>", "server base URL")
        .env("PARLEY_URL")
        .default("http://localhost:8080"),
    )
    .addOption(
      new Option("--protocol <name>", "wire protocol")
        .env("PARLEY_PROTOCOL")
        .choices(["connect", "grpc", "grpcweb"])
        .default("connect"),
    );
}

/** --as NAME, defaulting to $PARLEY_AUTHOR, then the login name. */
export function authorOption(): Option {
  let fallback = "cli";
  try {
    fallback = userInfo().username || fallback;
  } catch {
    // No passwd entry (some containers): keep "cli".
  }
  return new Option("--as <name>", "your display name").env("PARLEY_AUTHOR").default(fallback);
}

/** A parser for a whole number option at least `min`. */
export function wholeNumber(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be a whole number, at least ${min}`);
    }
    return n;
  };
}

/** The client for the program's --url and --protocol. */
export function clientFor(cmd: Command): ParleyClient {
  const { url, protocol } = cmd.optsWithGlobals<GlobalOptions>();
  return createParleyClient({ baseUrl: url, protocol });
}
