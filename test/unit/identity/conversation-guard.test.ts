import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { conversationId } from "../../../src/chat/conversation-id.js";
import { ConversationGuard } from "../../../src/identity/conversation-guard.js";
import { MemoryPeople } from "../../../src/store/memory-people.js";

/** A MemoryPeople that counts how often conversation() is asked. */
class CountingPeople extends MemoryPeople {
  asked = 0;
  override conversation(id: string) {
    this.asked++;
    return super.conversation(id);
  }
}

async function outcome(check: Promise<void>): Promise<string> {
  try {
    await check;
    return "ok";
  } catch (error) {
    const e = ConnectError.from(error);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
}

const dm = conversationId(["ann", "bob"]);

describe("ConversationGuard", () => {
  it("answers a non-participant, nobody, and an id nobody opened alike", async () => {
    const people = new CountingPeople();
    await people.openConversation(
      { id: dm, participants: ["ann", "bob"], createdAtMs: 1 },
      "ann",
      0,
      10,
    );
    const guard = new ConversationGuard(people);
    const missing = conversationId(["ann", "zed"]);
    const refused = (id: string) => `NotFound: conversation ${id} not found`;
    expect(await outcome(guard.check("eve", dm))).toBe(refused(dm));
    expect(await outcome(guard.check(undefined, dm))).toBe(refused(dm));
    expect(await outcome(guard.check("ann", missing))).toBe(refused(missing));
    expect(await outcome(guard.check("ann", dm))).toBe("ok");
    expect(await outcome(guard.check("bob", dm))).toBe("ok");
  });

  it("asks the store once for a conversation found, and again each time for one not found", async () => {
    const people = new CountingPeople();
    const guard = new ConversationGuard(people);
    // A burst of checks before the first answer asks once.
    await Promise.all([guard.check("ann", dm), guard.check("bob", dm)].map(outcome));
    expect(people.asked).toBe(1);
    await outcome(guard.check("ann", dm));
    expect(people.asked).toBe(2);
    // Opened since: found, then remembered.
    await people.openConversation(
      { id: dm, participants: ["ann", "bob"], createdAtMs: 1 },
      "ann",
      0,
      10,
    );
    expect(await outcome(guard.check("ann", dm))).toBe("ok");
    expect(await outcome(guard.check("eve", dm))).toBe(`NotFound: conversation ${dm} not found`);
    expect(await outcome(guard.check("bob", dm))).toBe("ok");
    expect(people.asked).toBe(3);
  });

  it("without a store (a server without identity) finds no conversation", async () => {
    const guard = new ConversationGuard(undefined);
    expect(await outcome(guard.check("ann", dm))).toBe(`NotFound: conversation ${dm} not found`);
    expect(await guard.participants(dm)).toBeUndefined();
  });
});
