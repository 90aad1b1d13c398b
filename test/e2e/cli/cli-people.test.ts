import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationId } from "../../../src/chat/conversation-id.js";
import { AUTH_DEFAULTS } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { type CliRun, runCli } from "../../helpers/run-cli.js";
import { startTestServer } from "../../helpers/test-server.js";

// `parley dm`, `parley feed`, `parley rooms --mine` and `parley read` against
// a guest server: each person runs the CLI with a state directory of their
// own, where it keeps their guest token and key between runs.

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TIME = "\\d\\d:\\d\\d:\\d\\d";
let server: ParleyServer;
let state: string;
beforeAll(async () => {
  server = await startTestServer({ auth: { ...AUTH_DEFAULTS, mode: "guest" } });
  state = mkdtempSync(join(tmpdir(), "parley-cli-people-"));
});
afterAll(async () => {
  await server.stop();
  rmSync(state, { recursive: true, force: true });
});

/** Run parley as `who` (their own saved guest login). */
function as(who: string, args: string[], input = ""): Promise<CliRun> {
  return runCli(["--url", server.url, ...args, "--as", who], input, {
    XDG_STATE_HOME: join(state, who),
  });
}

/**
 * Start `parley ARGV` (a feed) with `who`'s saved guest login and resolve once
 * it is following (its "following" status line); `done` resolves with the whole run.
 */
async function startFeed(who: string, argv: string[]): Promise<{ done: Promise<CliRun> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/parley.ts", ...argv], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", XDG_STATE_HOME: join(state, who) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const following = new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("following")) resolve();
    });
    child.once("close", () => reject(new Error(`feed ended before following: ${stderr}`)));
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const done = new Promise<CliRun>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  await following;
  return { done };
}

describe("parley for people", () => {
  const dm = conversationId(["ann", "bo"]);

  it("dm opens the conversation once, posts to it, and marks the poster's own message read", async () => {
    const first = await as("ann", ["dm", "bo", "-m", "hi bo"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(`opened @bo (${dm}, 0 messages, 0 unread)\n`);
    expect(first.stdout).toMatch(new RegExp(`^${TIME} #1 ann: hi bo\\n$`));

    const again = await as("ann", ["dm", "bo", "-m", "are you there?"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`in @bo (${dm}, 1 message, 0 unread)\n`);
    expect(again.stdout).toMatch(new RegExp(`^${TIME} #2 ann: are you there\\?\\n$`));
  });

  it("rooms --mine lists the other person's unread, and read clears it", async () => {
    const mine = await as("bo", ["rooms", "--mine"]);
    expect(mine).toEqual({
      code: 0,
      stdout: "@ann  2 unread  (read #0 of #2)\n",
      stderr: "2 unread in 1 room\n",
    });
    const read = await as("bo", ["read", dm]);
    expect(read).toEqual({ code: 0, stdout: "", stderr: `read ${dm} up to #2 (0 unread)\n` });
    const again = await as("bo", ["read", dm, "1"]);
    expect(again.stderr).toBe("already read up to #2 (0 unread)\n");
    const beyond = await as("bo", ["read", dm, "9"]);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toBe(
      `error: out_of_range: seq: 9 is beyond the last seq of room ${dm}, 2\n`,
    );
  });

  it("feed follows the conversation live, and resumes from the cursor it printed", async () => {
    const live = await startFeed("bo", ["--url", server.url, "feed", "--count", "1", "--as", "bo"]);
    const sent = await as("ann", ["dm", "bo", "-m", "live one"]);
    expect(sent.code).toBe(0);
    const first = await live.done;
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^@ann ${TIME} #3 ann: live one\\n$`));
    // The line names who and where, since a cursor is its owner's only.
    const resume = /resume with: parley (.+)\n$/.exec(first.stderr)?.[1] ?? "";
    expect(resume).toMatch(/^--url \S+ feed --as bo --cursor \S+$/);
    expect(resume.split(" ")[1]).toBe(server.url);
    expect(first.stderr).toContain("following 1 room (0 unread)\n");

    // Sent while nobody follows: the printed command brings exactly it, once.
    await as("ann", ["dm", "bo", "-m", "while you were away"]);
    const resumed = await startFeed("bo", [...resume.split(" "), "--count", "1"]);
    const second = await resumed.done;
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`^@ann ${TIME} #4 ann: while you were away\\n$`));
  });

  it("dm refuses a conversation with oneself alone, naming the field, and opens nothing", async () => {
    const alone = await as("cy", ["dm", "cy"]);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toBe(
      'error: invalid_argument: participants: must name someone besides the caller "cy" (a conversation with oneself alone is none)\n',
    );
    const mine = await as("cy", ["rooms", "--mine"]);
    expect(mine).toEqual({ code: 0, stdout: "", stderr: "0 unread in 0 rooms\n" });
  });
});
