import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJsonDocuments, SERVED_METHODS } from "../../helpers/buf-curl.js";
import {
  cleanEnv,
  commandShims,
  type DefaultServer,
  startDefaultServer,
} from "../../helpers/default-server.js";
import { freePort } from "../../helpers/free-port.js";
import {
  codeBlocks,
  commentOf,
  section,
  shellCommands,
  withoutComment,
} from "../../helpers/markdown-blocks.js";
import { runStep, type Shell, type StepRun } from "../../helpers/shell-step.js";

// Issue 19 point 2: the README's "Try it" commands, run in order, as written
// (taken from README.md itself), against a server on the default settings,
// each one's output checked. What differs from a user at a terminal, and
// nothing else:
// - the server is src/main.ts under tsx (what `npm start` builds and runs),
//   with no flag but --port, on a free port, in an empty folder (its
//   ./data starts empty); the commands' `localhost:8080` becomes that port,
//   and PARLEY_URL (the CLI's documented --url variable) names it;
// - `parley` on PATH is a shim to src/cli/parley.ts (what `npm link` would
//   put there), with XDG_STATE_HOME an empty folder (a new user's CLI state);
// - a command whose comment says "until Ctrl-C" gets SIGINT once it has
//   printed what it should; `parley chat` ("Ctrl-D leaves") reads one typed
//   line, then end of input.
// Commands run in the checkout, one bash each, carrying the variables the
// README sets (LOGIN, TOKEN) from one to the next as one shell would.

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");

const TIME = String.raw`\d\d:\d\d:\d\d`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The README's "Try it" commands, in order, without their comments. */
const EXPECTED_COMMANDS = [
  'parley send lobby "hello there" --as ann',
  "parley history lobby --limit 20",
  "parley subscribe lobby --since 0",
  "printf 'one\\ntwo\\n' | parley listen lobby --as pipe",
  "parley chat lobby --as carl",
  "LOGIN=$(curl -sS -H 'Content-Type: application/json' -d '{\"name\":\"dan\"}' \\\n  http://localhost:8080/chat.v1.ChatService/Login)",
  'TOKEN=$(echo "$LOGIN" | sed -nE \'s/.*"token":"([^"]+)".*/\\1/p\')',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${…:?…}, as the README writes it
  'echo "${TOKEN:?Login answered no token: $LOGIN}"',
  'npx @bufbuild/buf curl -H "authorization: Bearer $TOKEN" -d \'{"room":"lobby","text":"hello, room"}\' \\\n  http://localhost:8080/chat.v1.ChatService/Send',
  'npx @bufbuild/buf curl -H "authorization: Bearer $TOKEN" -d \'{"room":"lobby","sinceSeq":"0"}\' \\\n  http://localhost:8080/chat.v1.ChatService/Subscribe',
  'npx @bufbuild/buf curl -H "authorization: Bearer $TOKEN" --protocol grpc -d \'{"text":"ping"} {"text":"pong"}\' \\\n  http://localhost:8080/chat.v1.ChatService/Echo',
  "npx @bufbuild/buf curl --list-methods http://localhost:8080",
  'curl -H "authorization: Bearer $TOKEN" -H \'Content-Type: application/json\' \\\n  -d \'{"room":"lobby","text":"hi"}\' http://localhost:8080/chat.v1.ChatService/Send',
  'curl -N "http://localhost:8080/rooms/lobby/events?since=0&token=$TOKEN"',
];

/** The messages of lobby after every step, as (author, text) by seq. */
const ROOM = [
  ["ann", "hello there"],
  ["pipe", "one"],
  ["pipe", "two"],
  ["carl", "hi all"],
  ["dan", "hello, room"],
  ["dan", "hi"],
];

const commands = codeBlocks(section(README, "Try it"))
  .filter((b) => b.lang === "sh")
  .flatMap((b) => shellCommands(b.body));

describe("README.md, Try it: every command in order, as written, on the default server", () => {
  let dir: string;
  let server: DefaultServer;
  let shell: Shell;
  const runs = new Map<number, StepRun>();

  /** Run the README's command number `i` (its text with the test server's port). */
  async function step(i: number, options: Parameters<typeof runStep>[2] = {}): Promise<StepRun> {
    const command = (commands[i] ?? "").replaceAll("localhost:8080", `localhost:${server.port}`);
    const run = await runStep(shell, command, options);
    runs.set(i, run);
    return run;
  }

  /** A Ctrl-C command's interrupt condition, used only when its comment says so. */
  function untilCtrlC(i: number, done: (stdout: string) => boolean) {
    expect(commentOf(commands[i] ?? ""), `README: "${commands[i]}" runs until Ctrl-C`).toMatch(
      /until Ctrl-C/,
    );
    return { interruptWhen: done };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-readme-"));
    server = await startDefaultServer(join(dir, "server"), await freePort());
    const bin = commandShims(join(dir, "bin"));
    shell = {
      cwd: ROOT,
      env: cleanEnv({
        PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
        PARLEY_URL: server.url,
        XDG_STATE_HOME: join(dir, "state"),
        NO_COLOR: "1",
      }),
      stateFile: join(dir, "shell-state.sh"),
      vars: ["LOGIN", "TOKEN"],
    };
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the README's Try it section holds exactly these commands", () => {
    expect(commands.map(withoutComment)).toEqual(EXPECTED_COMMANDS);
  });

  it("parley send, history, subscribe, listen and chat", async () => {
    const sent = await step(0);
    expect(sent).toMatchObject({ code: 0, stderr: "" });
    expect(sent.stdout).toMatch(new RegExp(`^${TIME} #1 ann: hello there\n$`));

    const history = await step(1);
    expect(history).toMatchObject({ code: 0, stderr: "" });
    expect(history.stdout).toBe(sent.stdout);

    const subscribed = await step(
      2,
      untilCtrlC(2, (out) => out.includes("#1 ann: hello there\n")),
    );
    expect(subscribed.interrupted).toBe(true);
    expect(subscribed.stdout).toBe(sent.stdout);
    expect(subscribed.stderr).toMatch(/^joined lobby \(epoch [\w-]+, last seq 1\)\n$/);

    const listened = await step(3);
    expect(listened).toMatchObject({ code: 0, stdout: "accepted 2 messages (seq 2..3)\n" });

    expect(commentOf(commands[4] ?? "")).toMatch(/Ctrl-D leaves/);
    const chatted = await step(4, { input: "hi all\n" });
    expect(chatted.code).toBe(0);
    expect(chatted.stdout).toMatch(new RegExp(`^${TIME} #4 carl: hi all\n$`));
    expect(chatted.stderr).toMatch(/^joined lobby as carl \(epoch [\w-]+, last seq 3\)\n$/);
  }, 120_000);

  it("the token: Login as dan, the token taken out, and printed", async () => {
    expect(await step(5)).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await step(6)).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const printed = await step(7);
    expect(printed).toMatchObject({ code: 0, stderr: "" });
    const [, payload = ""] = printed.stdout.trim().split(".");
    expect(printed.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(JSON.parse(Buffer.from(payload, "base64url").toString())).toMatchObject({ sub: "dan" });
  }, 60_000);

  it("buf curl: Send, Subscribe until Ctrl-C, Echo over gRPC, the method list", async () => {
    const sent = await step(8);
    expect(sent.code).toBe(0);
    const [reply] = parseJsonDocuments(sent.stdout).docs as [{ message: { id: string } }];
    expect(reply).toEqual({
      message: {
        room: "lobby",
        seq: "5",
        id: expect.stringMatching(UUID),
        author: "dan",
        text: "hello, room",
        sentAt: expect.any(String),
      },
    });

    type Batch = { events: Record<string, Record<string, unknown>>[] };
    const events = (stdout: string) =>
      (parseJsonDocuments(stdout).docs as Batch[]).flatMap((d) => d.events);
    const subscribed = await step(
      9,
      untilCtrlC(9, (out) => events(out).some((e) => e.message?.seq === "5")),
    );
    expect(subscribed.interrupted).toBe(true);
    const [ready, ...rest] = events(subscribed.stdout);
    expect(ready?.ready).toMatchObject({ room: "lobby", lastSeq: "5", firstSeq: "1" });
    expect(rest.map((e) => [e.message?.seq, e.message?.author, e.message?.text])).toEqual(
      ROOM.slice(0, 5).map(([author, text], i) => [String(i + 1), author, text]),
    );

    const echoed = await step(10);
    expect(echoed.code).toBe(0);
    expect(parseJsonDocuments(echoed.stdout).docs).toEqual([
      { text: "ping", seq: "1", receivedAt: expect.any(String) },
      { text: "pong", seq: "2", receivedAt: expect.any(String) },
    ]);

    const listed = await step(11);
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout.trim().split("\n")).toEqual(SERVED_METHODS);
  }, 120_000);

  it("plain curl: Send as JSON, then the room as Server-Sent Events until Ctrl-C", async () => {
    const sent = await step(12);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toEqual({
      message: {
        room: "lobby",
        seq: "6",
        id: expect.stringMatching(UUID),
        author: "dan",
        text: "hi",
        sentAt: expect.any(String),
      },
    });

    const streamed = await step(
      13,
      untilCtrlC(13, (out) => out.includes("\nid: 6\n") && out.endsWith("\n\n")),
    );
    expect(streamed.interrupted).toBe(true);
    const frames = streamed.stdout.split("\n\n").filter((f) => f !== "");
    expect(frames[0]).toBe("retry: 1000");
    expect(frames[1]).toMatch(/^id: 0\nevent: ready\ndata: \{"room":"lobby",.*"lastSeq":"6"/);
    expect(
      frames.slice(2).map((f) => {
        const [id, event, data = ""] = f.split("\n");
        const m = JSON.parse(data.replace(/^data: /, "")) as { author: string; text: string };
        return [id, event, m.author, m.text];
      }),
    ).toEqual(ROOM.map(([author, text], i) => [`id: ${i + 1}`, "event: message", author, text]));
  }, 60_000);

  it("the token step, run again now that dan is held, stops with the server's answer and no token", async () => {
    expect(runs.get(7)?.code, "the first run took a token").toBe(0);
    await step(5);
    await step(6);
    const refused = await step(7);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(
      /TOKEN: Login answered no token: \{"code":"already_exists","message":"name: \\"dan\\" is in use by another guest; pick another name"\}\n$/,
    );
    // What the next command would send: nothing, rather than the JSON answer.
    const token = await runStep(shell, 'printf "[%s]" "$TOKEN"');
    expect(token.stdout).toBe("[]");
  }, 60_000);
});
