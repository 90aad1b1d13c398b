import { userInfo } from "node:os";
import { type Command, InvalidArgumentError, Option } from "commander";
import { createParleyClient, type ParleyClient, type Protocol } from "../client/index.js";
import { tokenFor } from "./cli-auth.js";

/** Options every client command reads from the parent program. */
export interface GlobalOptions {
  url: string;
  protocol: Protocol;
  token?: string;
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
    )
    .addOption(
      new Option(
        "--token <jwt>",
        "the token to send (default: log in as a guest by --as, on a server that hands out guest tokens)",
      ).env("PARLEY_TOKEN"),
    )
    .addHelpText(
      "after",
      `
Environment (a flag given on the command line wins):
  PARLEY_URL       --url
  PARLEY_PROTOCOL  --protocol
  PARLEY_TOKEN     --token (get one with \`parley login --as NAME\`, or
                   \`parley token\` with the server's secret)
  PARLEY_AUTHOR    --as, the name a command posts, joins and logs in as
                   (default: your login name)`,
    );
}

/** The name a command without --as logs in as: $PARLEY_AUTHOR, the login name, or "cli". */
function defaultName(): string {
  return process.env.PARLEY_AUTHOR || loginName() || "cli";
}

/** The user's login name, or undefined where the system has none (some containers have no passwd entry). */
function loginName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/**
 * --as NAME: the author of what you post and your name in join and leave
 * events. Defaults to $PARLEY_AUTHOR, then the login name, then "cli"; the
 * help says which.
 */
export function authorOption(): Option {
  const login = loginName();
  return new Option(
    "--as <name>",
    "your display name: the author of what you post, and your name in join and leave events",
  )
    .env("PARLEY_AUTHOR")
    .default(login ?? "cli", login ? `your login name, "${login}"` : `"cli" (no login name here)`);
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

/**
 * The client for the program's --url and --protocol. A person is waiting:
 * when nothing listens at the URL, say so at once instead of retrying
 * (a server that restarts after answering once is still waited for).
 */
export function clientFor(cmd: Command): ParleyClient {
  const { url, protocol, token } = cmd.optsWithGlobals<GlobalOptions>();
  const name = (cmd.opts() as { as?: string }).as ?? defaultName();
  const given = token === undefined || token === "" ? undefined : { token, from: tokenOrigin(cmd) };
  return createParleyClient({
    baseUrl: url,
    protocol,
    failFastWhenUnreachable: true,
    ...tokenFor({ url, protocol }, name, given),
  });
}

/** Whether the token came from the flag or the environment, for error advice. */
function tokenOrigin(cmd: Command): "--token" | "PARLEY_TOKEN" {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.getOptionValueSource("token") === "env" ? "PARLEY_TOKEN" : "--token";
}

/**
 * The author a command posts and joins as: --as. With a token given and no
 * --as (nor PARLEY_AUTHOR), empty: the server takes the token's subject,
 * where the login name would be refused as not the subject.
 */
export function authorOf(cmd: Command): string {
  const { token } = cmd.optsWithGlobals<GlobalOptions>();
  const as = (cmd.opts() as { as: string }).as;
  if (token && cmd.getOptionValueSource("as") === "default") return "";
  return as;
}
