import { describe, expect, it } from "vitest";
import { RemoteMembers } from "../../../src/rooms/remote-members.js";
import type { QueuedEvent } from "../../../src/rooms/room-event.js";
import type {
  PresenceChange,
  SharedMember,
  SharedPresence,
} from "../../../src/store/message-log.js";

/** A SharedPresence whose member list the test sets; join/leave/typing are not used here. */
function fakePresence(nodeId: string) {
  const state = { version: 0, members: [] as SharedMember[], reads: 0 };
  const presence: SharedPresence = {
    nodeId,
    join: () => undefined,
    leave: () => undefined,
    typing: () => undefined,
    members: async () => {
      state.reads++;
      return { version: state.version, members: state.members };
    },
    roomsElsewhere: async () => [],
  };
  return { presence, state };
}

/** A room that records what is published to it as "join <author>" / "leave <author>". */
function recordingRoom() {
  const published: string[] = [];
  return {
    published,
    room: {
      name: "r",
      publishedSeq: 0,
      publish(event: QueuedEvent) {
        const e = event.event.event;
        if (e.case === "join" || e.case === "leave") published.push(`${e.case} ${e.value.author}`);
      },
      forEachSubscriber: () => undefined,
    },
  };
}

const change = (
  kind: "join" | "leave",
  version: number,
  author: string,
  node = "other",
): PresenceChange => ({ kind, version, memberId: `id-${author}`, author, node });

describe("RemoteMembers", () => {
  it("publishes other nodes' changes in version order, ignoring its own node's and stale ones", () => {
    const { presence } = fakePresence("me");
    const { room, published } = recordingRoom();
    const members = new RemoteMembers(room, presence);
    members.apply(change("join", 1, "ann"));
    members.apply(change("join", 2, "me-too", "me"));
    members.apply(change("join", 3, "bob"));
    members.apply(change("join", 3, "bob"));
    members.apply(change("join", 2, "late"));
    members.apply(change("leave", 4, "ann"));
    expect(published).toEqual(["join ann", "join bob", "leave ann"]);
    expect(members.list()).toEqual([{ memberId: "id-bob", author: "bob" }]);
  });

  it("reads the whole list when a version is skipped, and publishes the difference", async () => {
    const { presence, state } = fakePresence("me");
    const { room, published } = recordingRoom();
    const members = new RemoteMembers(room, presence);
    members.apply(change("join", 1, "ann"));
    members.apply(change("join", 2, "bob"));
    // Versions 3-5 were lost (ann left, cid and dee joined, dee on this
    // node); 6 arrives. The list, read after 6 was published, is at 6.
    state.version = 6;
    state.members = [
      { memberId: "id-bob", author: "bob", node: "other" },
      { memberId: "id-cid", author: "cid", node: "third" },
      { memberId: "id-dee", author: "dee", node: "me" },
      { memberId: "id-eve", author: "eve", node: "other" },
    ];
    members.apply(change("join", 6, "eve"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(state.reads).toBe(1);
    expect(published).toEqual(["join ann", "join bob", "leave ann", "join cid", "join eve"]);
    expect(members.list().map((m) => m.author)).toEqual(["bob", "cid", "eve"]);
    // What follows applies on top of the read.
    members.apply(change("leave", 7, "bob"));
    expect(published.slice(5)).toEqual(["leave bob"]);
  });

  it("ignores a list read that is older than the changes already applied", async () => {
    const { presence, state } = fakePresence("me");
    const { room, published } = recordingRoom();
    const members = new RemoteMembers(room, presence);
    members.apply(change("join", 1, "ann"));
    members.apply(change("join", 2, "bob"));
    state.version = 1;
    state.members = [{ memberId: "id-ann", author: "ann", node: "other" }];
    await members.reload();
    expect(published).toEqual(["join ann", "join bob"]);
    expect(members.list().map((m) => m.author)).toEqual(["ann", "bob"]);
  });
});
