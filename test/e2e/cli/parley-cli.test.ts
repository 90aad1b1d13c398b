import { execFile } from "node:child_process";
import { userInfo } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { freePort } from "../../helpers/free-port.js";
import { jsonLines, runCli } from "../../helpers/run-cli.js";
import { spawnServer } from "../../helpers/spawn-server.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

let server: ParleyServer;
let url: string[];
beforeAll(async () => {
  server = await startTestServer();
  url = ["--url", server.url];
});
afterAll(() => server.stop());

/** `text` as a literal in a regular expression. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("parley (the CLI) against a running server", () => {
  it("send prints the stored message, for people and as JSON", async () => {
    const human = await runCli([...url, "send", "cli-send", "hello there", "--as", "ann"]);
    expect(human).toMatchObject({ code: 0, stderr: "" });
    expect(human.stdout).toMatch(/^\d\d:\d\d:\d\d #1 ann: hello there\n$/);

    const json = await runCli([
      ...url,
      "--protocol",
      "grpc",
      "send",
      "cli-send",
      "again",
      "--id",
      "k-1",
      "--json",
    ]);
    expect(json.code).toBe(0);
    const [message] = jsonLines(json.stdout) as Record<string, string>[];
    expect(message).toMatchObject({
      room: "cli-send",
      seq: "2",
      author: "tester",
      text: "again",
      clientMessageId: "k-1",
    });
    expect(message?.id).toMatch(UUID);
    // The same key again is the same message, stored once.
    const retry = await runCli([...url, "send", "cli-send", "again", "--id", "k-1", "--json"]);
    expect(jsonLines(retry.stdout)).toEqual([message]);
  });

  it("listen streams stdin lines through Listener and prints the summary", async () => {
    const run = await runCli(
      [...url, "listen", "cli-listen", "--as", "pipe"],
      "one\ntwo\n\n  \nthree\n",
    );
    expect(run).toEqual({ code: 0, stdout: "accepted 3 messages (seq 1..3)\n", stderr: "" });
    const stored = await chatClient(server.url).history({ room: "cli-listen" });
    expect(stored.messages.map((m) => `${m.seq} ${m.author} ${m.text}`)).toEqual([
      "1 pipe one",
      "2 pipe two",
      "3 pipe three",
    ]);
  });

  it("history pages like the RPC, oldest first", async () => {
    const run = await runCli([
      ...url,
      "history",
      "cli-listen",
      "--after",
      "1",
      "--limit",
      "1",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(
      (jsonLines(run.stdout) as { seq: string; text: string }[]).map((m) => [m.seq, m.text]),
    ).toEqual([["2", "two"]]);
    const human = await runCli([...url, "history", "cli-listen", "--limit", "2"]);
    expect(
      human.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.slice(9)),
    ).toEqual(["#2 pipe: two", "#3 pipe: three"]);
    expect(human.stderr).toContain("(more: page with --before or --after)");
  });

  it("subscribe --json replays after --since, then follows live messages", async () => {
    const room = "cli-subscribe";
    const client = chatClient(server.url);
    for (const text of ["a", "b", "c"]) await client.send({ room, author: "ann", text });
    // A watcher sees the CLI's subscription join (as "tester"); then a live message follows.
    const watcher = new AbortController();
    const joins = client.subscribe({ room, author: "watcher" }, { signal: watcher.signal });
    const running = runCli([...url, "subscribe", room, "--since", "1", "--count", "3", "--json"]);
    for await (const res of joins) {
      if (res.events.some((e) => e.event.case === "join" && e.event.value.author === "tester"))
        break;
    }
    watcher.abort();
    await client.send({ room, author: "bob", text: "live" });
    const run = await running;
    expect(run.code).toBe(0);
    const events = jsonLines(run.stdout) as Record<string, Record<string, string>>[];
    expect(Object.keys(events[0] ?? {})).toEqual(["ready"]);
    expect(events[0]?.ready?.lastSeq).toBe("3");
    const messages = events.filter((e) => e.message).map((e) => [e.message?.seq, e.message?.text]);
    expect(messages).toEqual([
      ["2", "b"],
      ["3", "c"],
      ["4", "live"],
    ]);
  });

  it("echo sends each typed line over the bidi stream and prints it back with its seq", async () => {
    const run = await runCli([...url, "echo", "--json"], "ping\npong\n");
    expect(run.code).toBe(0);
    const replies = jsonLines(run.stdout) as { seq: number; text: string; rttMs: number }[];
    expect(replies.map((r) => [r.seq, r.text])).toEqual([
      [1, "ping"],
      [2, "pong"],
    ]);
    for (const r of replies) expect(r.rttMs).toBeGreaterThan(0);
    const human = await runCli([...url, "echo"], "hello\n");
    expect(human.stdout).toMatch(/^#1 hello \(\d+\.\d ms\)\n$/);
  });

  it("chat posts typed lines, shows the room (its own messages included), and exits once they are stored", async () => {
    const room = "cli-chat";
    await chatClient(server.url).send({ room, author: "ann", text: "before" });
    const run = await runCli(
      [...url, "chat", room, "--as", "carl", "--since", "0"],
      "hi all\nbye\n",
    );
    expect(run.code).toBe(0);
    expect(
      run.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.slice(9)),
    ).toEqual(["#1 ann: before", "#2 carl: hi all", "#3 carl: bye"]);
    expect(run.stderr).toContain(`joined ${room} as carl`);
  });

  it("prints the RPC code and message and exits 1 on errors", async () => {
    const bad = await runCli([...url, "send", "Lobby", "x"]);
    expect(bad).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'error: invalid_argument: room: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "Lobby")\n',
    });
  });

  it("a command to a server that is down fails at once, naming the URL it tried", async () => {
    const port = await freePort();
    const target = `http://127.0.0.1:${port}`;
    const said = `error: unavailable: nothing is listening at ${target} (connect ECONNREFUSED 127.0.0.1:${port}); start the server (parley serve, or npm start) or point --url or PARLEY_URL at it\n`;
    // send does not retry a first refusal (test/e2e/client/client-retries.test.ts counts the attempts).
    expect(await runCli(["--url", target, "send", "lobby", "hi"])).toEqual({
      code: 1,
      stdout: "",
      stderr: said,
    });
    expect(await runCli(["--url", target, "history", "lobby"])).toEqual({
      code: 1,
      stdout: "",
      stderr: said,
    });
    // subscribe would print "connection lost …; retrying" on each retry.
    expect(await runCli(["--url", target, "subscribe", "lobby"])).toEqual({
      code: 1,
      stdout: "",
      stderr: said,
    });
  });

  it("--as defaults to $PARLEY_AUTHOR, then the login name, and the help says so", async () => {
    let login = "cli";
    try {
      login = userInfo().username || login;
    } catch {
      // no passwd entry: the CLI falls back to "cli" too
    }
    const words = (text: string) => new RegExp(text.split(" ").map(literal).join("\\s+"));
    const help = await runCli(["send", "--help"]);
    expect(help.stdout).toMatch(
      words(
        `--as <name> your display name: the author of what you post, and your name in join and leave events (default: your login name, "${login}", env: PARLEY_AUTHOR)`,
      ),
    );
    expect((await runCli(["--help"])).stdout).toMatch(
      words(
        "PARLEY_AUTHOR --as, the name a command posts, joins and logs in as (default: your login name)",
      ),
    );

    const author = (stdout: string) => (JSON.parse(stdout) as { author: string }).author;
    // runCli sets PARLEY_AUTHOR=tester.
    expect(author((await runCli([...url, "send", "cli-as", "one", "--json"])).stdout)).toBe(
      "tester",
    );
    const flag = await runCli([...url, "send", "cli-as", "two", "--json", "--as", "ann"]);
    expect(author(flag.stdout)).toBe("ann");
    const { PARLEY_AUTHOR: _, ...env } = process.env;
    // Not spawnSync: the server runs in this process and must answer meanwhile.
    const bare = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "src/cli/parley.ts", ...url, "send", "cli-as", "three", "--json"],
      { cwd: fileURLToPath(new URL("../../..", import.meta.url)), env, timeout: 20_000 },
    );
    expect(author(bare.stdout)).toBe(login);
  });

  it("serve runs the server with the server's flags", async () => {
    const served = await spawnServer(
      ["--port", "0", "--host", "127.0.0.1", "--store", "memory:", "--retention", "2"],
      {},
      ["src/cli/parley.ts", "serve"],
    );
    try {
      for (const text of ["one", "two", "three"]) {
        expect((await runCli(["--url", served.url, "send", "served", text])).code).toBe(0);
      }
      // --retention 2 took effect: only the newest two are kept.
      const run = await runCli(["--url", served.url, "history", "served", "--json"]);
      expect((jsonLines(run.stdout) as { seq: string }[]).map((m) => m.seq)).toEqual(["2", "3"]);
    } finally {
      served.process.kill("SIGTERM");
      expect(await served.exited).toBe(0);
    }
  });
});
