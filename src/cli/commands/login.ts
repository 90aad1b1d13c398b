import { Command } from "commander";
import { guestLogin } from "../cli-auth.js";
import { authorOption, type GlobalOptions } from "../options.js";
import { shellWord } from "../output.js";

/**
 * `parley login --as NAME`: a guest token from a server started with
 * `--auth guest`. Prints it as a shell line, so that
 * `eval "$(parley login --as ann)"` sets PARLEY_TOKEN, with its expiry as a
 * comment; --json prints token, subject, scopes and expiresAt.
 */
export function loginCommand(): Command {
  return new Command("login")
    .description("log in as a guest; prints the token (export PARLEY_TOKEN=…) and when it expires")
    .addOption(authorOption())
    .option("--json", "print token, subject, scopes and expiresAt as JSON")
    .action(async (opts: { as: string; json?: boolean }, cmd: Command) => {
      const { url, protocol } = cmd.optsWithGlobals<GlobalOptions>();
      const login = await guestLogin({ url, protocol }, opts.as);
      const expiresAt = login.expiresAt.toISOString();
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ token: login.token, subject: login.subject, scopes: login.scopes, expiresAt })}\n`,
        );
        return;
      }
      const minutes = Math.round((login.expiresAt.getTime() - Date.now()) / 60_000);
      process.stdout.write(
        `export PARLEY_TOKEN=${login.token}\n` +
          `# guest "${login.subject}" on ${url}, valid until ${expiresAt} (about ${minutes} min); ` +
          `eval "$(parley login --as ${shellWord(login.subject)})" sets it, --token passes it to one command, ` +
          "and running this again before then renews it\n",
      );
    });
}
