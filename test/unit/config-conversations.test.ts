import { expect, it } from "vitest";
import { configFrom, serverCommand } from "../../src/config.js";

/** Parse flags as `parley` would, with commander's exit and output captured. */
function parse(args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof configFrom> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const cmd = serverCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    return configFrom(cmd.parse(["node", "parley", ...args]));
  } finally {
    process.env = saved;
  }
}

it("caps conversations at 16 participants unless --conversation-max-participants says otherwise", () => {
  expect(parse([]).auth?.conversationMaxParticipants).toBe(16);
  expect(parse(["--conversation-max-participants", "3"]).auth?.conversationMaxParticipants).toBe(3);
  expect(
    parse([], { PARLEY_CONVERSATION_MAX_PARTICIPANTS: "40" }).auth?.conversationMaxParticipants,
  ).toBe(40);
});

it("refuses a cap below 2, above the membership limit, or not a whole number", () => {
  for (const bad of ["1", "1001", "2.5", "many"]) {
    expect(() => parse(["--conversation-max-participants", bad])).toThrow(
      "--conversation-max-participants must be a whole number from 2 to 1000",
    );
  }
});
