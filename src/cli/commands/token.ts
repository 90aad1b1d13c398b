import { Command, Option } from "commander";
import { wholeNumber } from "../options.js";

/**
 * `parley token --sub NAME`: mint a token with the server's HS256 secret,
 * for scripts and tests (a server started with --auth jwt and the same
 * --auth-secret-file accepts it). Prints the token alone on stdout.
 */
export function tokenCommand(): Command {
  return new Command("token")
    .description("mint a token with the server's secret (for scripts and tests); prints it")
    .requiredOption("--sub <name>", "the subject: the author the token may post and join as")
    .option("--scope <scopes>", "space- or comma-separated scopes", "chat:read chat:write")
    .option("--name <display>", "the display name (name claim)")
    .option(
      "--rooms <rooms>",
      "comma-separated rooms it may touch (a prefix ends in *); default: all",
    )
    .addOption(
      new Option("--ttl-s <s>", "lifetime in seconds")
        .default(3600)
        .argParser(wholeNumber("--ttl-s", 1)),
    )
    .addOption(
      new Option("--secret-file <file>", "the HS256 secret the server verifies with")
        .env("PARLEY_AUTH_SECRET_FILE")
        .makeOptionMandatory(),
    )
    .option("--issuer <iss>", "the iss claim, when the server checks one")
    .action(
      async (opts: {
        sub: string;
        scope: string;
        name?: string;
        rooms?: string;
        ttlS: number;
        secretFile: string;
        issuer?: string;
      }) => {
        // Loaded here: the other commands must not load the JWT library.
        const { readSecret } = await import("../../identity/read-secret.js");
        const { signToken } = await import("../../identity/sign-token.js");
        const issued = await signToken(
          await readSecret(opts.secretFile),
          {
            sub: opts.sub,
            scopes: opts.scope.split(/[\s,]+/).filter(Boolean),
            ...(opts.name === undefined ? {} : { name: opts.name }),
            ...(opts.rooms === undefined
              ? {}
              : {
                  rooms: opts.rooms
                    .split(",")
                    .map((r) => r.trim())
                    .filter(Boolean),
                }),
            ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
          },
          opts.ttlS,
        );
        process.stdout.write(`${issued.token}\n`);
      },
    );
}
