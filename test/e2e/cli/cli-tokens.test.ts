import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { AUTH_DEFAULTS, type AuthConfig } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { runCli } from "../../helpers/run-cli.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// The parley command carries tokens: --token and PARLEY_TOKEN, `parley
// login`, a guest login of its own against a guest server, and advice that
// says what to do when a server refuses.

const SECRET = "a shared secret of more than thirty-two bytes, for tests";
let guest: ParleyServer;
let jwt: ParleyServer;

function auth(overrides: Partial<AuthConfig>): AuthConfig {
  return { ...AUTH_DEFAULTS, secretFile: secretFile(SECRET), ...overrides };
}

beforeAll(async () => {
  guest = await startTestServer({ auth: auth({ mode: "guest" }) });
  jwt = await startTestServer({ auth: auth({ mode: "jwt" }) });
});
afterAll(async () => {
  await guest.stop();
  await jwt.stop();
});

/** A state directory of its own: where the CLI keeps guest tokens between runs. */
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-state-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return { XDG_STATE_HOME: dir };
};

const MESSAGE = (seq: number, author: string, text: string) =>
  new RegExp(`^\\d\\d:\\d\\d:\\d\\d #${seq} ${author}: ${text}\\n$`);

const MINT = "an operator mints one with `parley token --sub NAME --secret-file FILE`";

describe("parley against a guest server", () => {
  it("send logs in as --as by itself, and again as the same guest on the next run", async () => {
    const env = stateDir();
    const url = ["--url", guest.url];
    const first = await runCli([...url, "send", "cli-guest", "hello", "--as", "ann"], "", env);
    expect([first.code, first.stderr]).toEqual([0, ""]);
    expect(first.stdout).toMatch(MESSAGE(1, "ann", "hello"));
    // The name is held: the second run shows the saved token and renews it.
    const second = await runCli([...url, "send", "cli-guest", "again", "--as", "ann"], "", env);
    expect([second.code, second.stderr]).toEqual([0, ""]);
    expect(second.stdout).toMatch(MESSAGE(2, "ann", "again"));
    const saved = statSync(join(env.XDG_STATE_HOME, "parley", "guest-tokens.json"));
    expect(saved.mode & 0o777).toBe(0o600);

    // Someone else (another state directory) cannot take the name.
    const other = await runCli(
      [...url, "send", "cli-guest", "mine", "--as", "ann"],
      "",
      stateDir(),
    );
    expect([other.code, other.stdout, other.stderr]).toEqual([
      1,
      "",
      'error: already_exists: name: "ann" is in use by another guest; pick another name\n' +
        "pick another name with --as (or PARLEY_AUTHOR), or pass your own token with --token\n",
    ]);
    const stored = await runCli([...url, "history", "cli-guest"], "", env);
    expect(stored.stdout.split("\n").map((l) => l.replace(/^\S+ /, ""))).toEqual([
      "#1 ann: hello",
      "#2 ann: again",
      "",
    ]);
  });

  it("history and echo log in as --as too: the name is theirs afterwards", async () => {
    const url = ["--url", guest.url];
    const read = await runCli([...url, "history", "cli-as", "--as", "hana"], "", stateDir());
    expect(read).toEqual({ code: 0, stdout: "", stderr: "" });
    const echoed = await runCli([...url, "echo", "--as", "ivo"], "ping\n", stateDir());
    expect([echoed.code, echoed.stderr]).toEqual([0, ""]);
    expect(echoed.stdout).toMatch(/^#1 ping \(\d+\.\d ms\)\n$/);
    for (const name of ["hana", "ivo"]) {
      const other = await runCli([...url, "send", "cli-as", "mine", "--as", name], "", stateDir());
      expect([other.code, other.stderr.split("\n")[0]]).toEqual([
        1,
        `error: already_exists: name: "${name}" is in use by another guest; pick another name`,
      ]);
    }
  });

  it("login prints the token as an export line with its expiry; --token and PARLEY_TOKEN use it", async () => {
    const url = ["--url", guest.url];
    const before = Date.now();
    const login = await runCli([...url, "login", "--as", "cleo"], "", stateDir());
    expect([login.code, login.stderr]).toEqual([0, ""]);
    const [exportLine, comment, end] = login.stdout.split("\n");
    expect(end).toBe("");
    const token = /^export PARLEY_TOKEN=(\S+)$/.exec(exportLine ?? "")?.[1] ?? "";
    expect(token.split(".")).toHaveLength(3);
    const expiry = /valid until (\S+) /.exec(comment ?? "")?.[1] ?? "";
    expect(comment).toBe(
      `# guest "cleo" on ${guest.url}, valid until ${expiry} (about 15 min); eval "$(parley login --as cleo)" sets it, --token passes it to one command, and running this again before then renews it`,
    );
    const expiresAt = Date.parse(expiry);
    // A JWT's exp is in whole seconds, so the expiry may fall up to 999 ms before before + 15 min.
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor((before + 900_000) / 1000) * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);

    // Without --as (nor PARLEY_AUTHOR) a command posts as the token's subject.
    const noAuthor = { PARLEY_AUTHOR: undefined, ...stateDir() };
    const flag = await runCli([...url, "--token", token, "send", "cli-login", "one"], "", noAuthor);
    expect([flag.code, flag.stderr]).toEqual([0, ""]);
    expect(flag.stdout).toMatch(MESSAGE(1, "cleo", "one"));
    const fromEnv = await runCli([...url, "send", "cli-login", "two"], "", {
      ...noAuthor,
      PARLEY_TOKEN: token,
    });
    expect([fromEnv.code, fromEnv.stderr]).toEqual([0, ""]);
    expect(fromEnv.stdout).toMatch(MESSAGE(2, "cleo", "two"));

    const json = await runCli([...url, "login", "--as", "dora", "--json"], "", stateDir());
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(["token", "subject", "scopes", "expiresAt"]);
    expect([parsed.subject, parsed.scopes]).toEqual(["dora", ["chat:read", "chat:write"]]);
  });

  it("a refused token says so and what to do, without a stack trace", async () => {
    const expired = await hsToken(SECRET, { sub: "ann", expiresInS: -120 });
    const run = await runCli(["--url", guest.url, "send", "cli-refused", "x"], "", {
      PARLEY_TOKEN: expired,
      PARLEY_AUTHOR: undefined,
      ...stateDir(),
    });
    expect([run.code, run.stdout, run.stderr]).toEqual([
      1,
      "",
      "error: unauthenticated: token rejected: it has expired\n" +
        `the token from PARLEY_TOKEN was refused: get a fresh one (\`parley login --as NAME\` on a guest server; on a jwt server from your identity system, or ${MINT})\n`,
    ]);
    const wrongAuthor = await runCli(
      [
        "--url",
        guest.url,
        "--token",
        await hsToken(SECRET, { sub: "ann" }),
        "send",
        "cli-refused",
        "x",
        "--as",
        "bob",
      ],
      "",
      stateDir(),
    );
    expect([wrongAuthor.code, wrongAuthor.stderr]).toEqual([
      1,
      'error: permission_denied: author: "bob" is not the token\'s subject "ann"; leave it empty or use the subject\n' +
        "the token from --token does not allow this (its sub, scope and rooms claims decide); --as must be its subject or left out\n",
    ]);
    const history = await chatClient(guest.url).history(
      { room: "cli-refused" },
      { headers: { authorization: `Bearer ${await hsToken(SECRET, { sub: "ann" })}` } },
    );
    expect(history.messages).toEqual([]);
  });
});

describe("parley against a jwt server", () => {
  it("without a token it says a token is needed and how to get one; --token works", async () => {
    const url = ["--url", jwt.url];
    const bare = await runCli([...url, "send", "cli-jwt", "x", "--as", "ann"], "", stateDir());
    expect([bare.code, bare.stdout, bare.stderr]).toEqual([
      1,
      "",
      'error: unauthenticated: Send needs a token: send "authorization: Bearer <token>" (a guest gets one from Login, or `parley login`)\n' +
        "this server needs a token and hands out no guest tokens (Login is off: this server takes tokens from its operator's identity system (--auth jwt)): " +
        `pass --token TOKEN or set PARLEY_TOKEN; ${MINT}\n`,
    ]);
    const login = await runCli([...url, "login", "--as", "ann"], "", stateDir());
    expect([login.code, login.stdout, login.stderr]).toEqual([
      1,
      "",
      "error: failed_precondition: Login is off: this server takes tokens from its operator's identity system (--auth jwt)\n" +
        `use a token from your identity system with --token or PARLEY_TOKEN; ${MINT}\n`,
    ]);
    const token = await hsToken(SECRET, { sub: "ann" });
    const sent = await runCli([...url, "--token", token, "send", "cli-jwt", "hi", "--as", "ann"]);
    expect([sent.code, sent.stderr]).toEqual([0, ""]);
    expect(sent.stdout).toMatch(MESSAGE(1, "ann", "hi"));
    const followed = await runCli(
      [...url, "subscribe", "cli-jwt", "--since", "0", "--count", "1"],
      "",
      { PARLEY_TOKEN: token, PARLEY_AUTHOR: undefined },
    );
    expect([followed.code, followed.stdout.replace(/^\S+ /, "")]).toEqual([0, "#1 ann: hi\n"]);
  });
});
