import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { validAuthor, validRoom, validText } from "../../src/chat/validate.js";
import { isWellFormed } from "../../src/limits.js";
import { authorProblem, roomProblem, textProblem } from "../../web/src/names.js";

/**
 * The web app checks names and messages before sending them; the server
 * checks them again. Both read src/limits.ts, and this test shows they agree
 * on the boundary cases, through the functions each actually calls: the
 * page's roomProblem / authorProblem / textProblem (web/src/names.ts) and the
 * server's validRoom / validAuthor / validText (src/chat/validate.ts).
 */

/** The server's INVALID_ARGUMENT message for a value, or "ok" when it accepts it. */
function serverVerdict(check: (field: string, value: string) => string, value: string): string {
  try {
    check("f", value);
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return (error as ConnectError).rawMessage;
  }
}

const grin = "\u{1F600}"; // one code point, two UTF-16 units

describe("room names", () => {
  const cases: [string, string, boolean][] = [
    ["64 characters", "a".repeat(64), true],
    ["65 characters", "a".repeat(65), false],
    ["one digit", "0", true],
    ["letters, digits, _ and -", "lobby-1_b", true],
    ["empty", "", false],
    ["upper case", "Lobby", false],
    ["starts with -", "-lobby", false],
    ["starts with _", "_lobby", false],
    ["a space", "lo bby", false],
    ["punctuation", "lobby!", false],
    ["a non-ASCII letter", "caf\u00e9", false],
    ["a trailing newline", "lobby\n", false],
    ["an astral character", `lobby${grin}`, false],
  ];
  it.each(cases)("%s: page and server agree", (_label, room, accepted) => {
    expect(roomProblem(room) === undefined).toBe(accepted);
    expect(serverVerdict(validRoom, room) === "ok").toBe(accepted);
  });

  it("at 65 characters, each side names the rule with the same limit", () => {
    const room = "a".repeat(65);
    expect(roomProblem(room)).toBe(
      "Room names are 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit.",
    );
    expect(serverVerdict(validRoom, room)).toBe(
      `f: must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit (got "${room}")`,
    );
  });
});

describe("display names (authors)", () => {
  const cases: [string, string, boolean][] = [
    ["32 characters", "a".repeat(32), true],
    ["33 characters", "a".repeat(33), false],
    ["32 astral characters (64 UTF-16 units)", grin.repeat(32), true],
    ["33 astral characters", grin.repeat(33), false],
    ["32 characters inside spaces", ` ${"b".repeat(32)}  `, true],
    ["empty", "", false],
    ["only spaces", "   ", false],
    ["a control character", "bo\u0007b", false],
    ["a lone surrogate", "bo\uD800b", false],
    ["a right-to-left override (U+202E)", "bo\u202Eb", false],
    ["a left-to-right mark (U+200E)", "bo\u200Eb", false],
    ["a left-to-right isolate (U+2066)", "bo\u2066b", false],
    ["a pop directional isolate (U+2069)", "bo\u2069b", false],
    ["a zero-width no-break space (U+FEFF) inside", "bo\uFEFFb", false],
    ["a soft hyphen (U+00AD, another Cf)", "bo\u00ADb", false],
    ["a tag character (U+E0067)", "bo\u{E0067}b", false],
    ["a zero-width non-joiner (Persian)", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", true],
    ["an emoji joined by U+200D", "\u{1F469}\u200D\u{1F52C} ana", true],
  ];
  it.each(cases)("%s: page and server agree", (_label, author, accepted) => {
    expect(authorProblem(author) === undefined).toBe(accepted);
    expect(serverVerdict(validAuthor, author) === "ok").toBe(accepted);
  });

  it("at 33 astral characters, both count 33", () => {
    expect(authorProblem(grin.repeat(33))).toBe(
      "Names are at most 32 characters (this one has 33).",
    );
    expect(serverVerdict(validAuthor, grin.repeat(33))).toBe(
      "f: must be 1-32 characters after trimming (got 33)",
    );
  });

  it("a bidi override: the server names the code point, the page says why", () => {
    expect(serverVerdict(validAuthor, "admin\u202Eeve")).toBe(
      "f: must not contain invisible format characters such as bidi controls (got U+202E)",
    );
    expect(authorProblem("admin\u202Eeve")).toBe(
      "Names cannot contain control characters, invisible formatting characters (such as bidi controls) or broken Unicode.",
    );
  });
});

describe("message text", () => {
  const cases: [string, string, boolean][] = [
    ["500 characters", "x".repeat(500), true],
    ["501 characters", "x".repeat(501), false],
    ["500 astral characters (1,000 UTF-16 units)", grin.repeat(500), true],
    ["501 astral characters", grin.repeat(501), false],
    ["500 characters inside whitespace", `  ${"x".repeat(500)}\n`, true],
    ["500 code points as 250 e + combining accent", "e\u0301".repeat(250), true],
    ["501 code points with combining accents", `${"e\u0301".repeat(250)}e`, false],
    ["empty", "", false],
    ["only whitespace", " \n\t ", false],
    ["a lone high surrogate", "hi \uD83D", false],
    ["a lone low surrogate", "\uDE00 hi", false],
  ];
  it.each(cases)("%s: page and server agree", (_label, text, accepted) => {
    expect(textProblem(text) === undefined).toBe(accepted);
    expect(serverVerdict(validText, text) === "ok").toBe(accepted);
  });

  it("at 501 astral characters, both count 501", () => {
    expect(textProblem(grin.repeat(501))).toBe("1 character over the 500-character limit");
    expect(serverVerdict(validText, grin.repeat(501))).toBe(
      "f: must be 1-500 characters after trimming (got 501)",
    );
  });
});

describe("isWellFormed (runs in browsers without String#isWellFormed)", () => {
  const samples = [
    "",
    "plain",
    grin,
    `${grin}${grin}`,
    "\uD83D",
    "\uDE00",
    "a\uD83Db",
    "\uDE00\uD83D",
  ];
  it.each(samples.map((s) => [JSON.stringify(s), s]))(
    "%s agrees with String#isWellFormed",
    (_l, s) => {
      expect(isWellFormed(s)).toBe(s.isWellFormed());
    },
  );
});
