import type { ParleyClient } from "../../src/client/parley-client.js";
import { isConversationId } from "../../src/limits.js";
import { ConversationList } from "./conversation-list.js";
import { followMyFeed } from "./my-feed.js";
import { MyRooms } from "./my-rooms.js";
import { ReadMarker } from "./read-marker.js";

/** What the signed-in person's rooms need from the page around them. */
export interface PersonRoomsDeps {
  /** Show this room or conversation. */
  pick(room: string): void;
  /** Memberships, counts or visibility changed: draw the lists and the title again. */
  onChange(): void;
}

/**
 * The signed-in person's rooms and conversations, where the server keeps
 * them (--auth guest or jwt): their feed, one stream for the page (over the
 * WebSocket like every other call), gives the memberships and live unread
 * counts; opening a room joins it (JoinRoom), so it stays theirs; reading
 * moves the read position (ReadMarker), which the feed brings back to every
 * tab of the person. Close it on sign-out.
 */
export class PersonRooms {
  readonly rooms: MyRooms;
  readonly conversations: ConversationList;
  private readonly marker: ReadMarker;
  private readonly stop = new AbortController();
  private current = "";

  constructor(
    private readonly api: ParleyClient,
    me: string,
    deps: PersonRoomsDeps,
  ) {
    this.rooms = new MyRooms(() => {
      this.conversations.render();
      this.marker.flush();
      deps.onChange();
    });
    this.marker = new ReadMarker(api, this.rooms, this.stop.signal);
    this.conversations = new ConversationList(me, this.rooms, (r) => this.unread(r), deps.pick);
    this.conversations.render();
    // The open room's count shows while the page is hidden, and is read once it is seen.
    const seen = () => {
      this.conversations.render();
      deps.onChange();
    };
    document.addEventListener("visibilitychange", seen, { signal: this.stop.signal });
    void followMyFeed(api, this.rooms, this.stop.signal);
  }

  /** The room or conversation now open: join it (it stays in the person's list), and mark it. */
  open(room: string): void {
    this.current = room;
    this.marker.shown(room, 0n);
    this.conversations.setCurrent(isConversationId(room) ? room : "");
    this.api.rpc.joinRoom({ room }, { signal: this.stop.signal }).then(
      (answer) => {
        if (answer.room !== undefined) this.rooms.add(answer.room);
      },
      () => {
        // Not joined (offline; a conversation this person is not in): the view says what matters.
      },
    );
  }

  /** The open room shows messages up to `seq`. */
  shown(room: string, seq: bigint): void {
    this.marker.shown(room, seq);
  }

  /** The unread count to show for `room`: none for the open one while the page is seen. */
  unread(room: string): number {
    if (room === this.current && this.marker.visible) return 0;
    return this.rooms.unread(room);
  }

  /** Unread messages over every room and conversation of the person (the title's count). */
  total(): number {
    let n = 0;
    for (const m of this.rooms.all()) n += this.unread(m.room);
    return n;
  }

  /** Signed out: stop following. */
  close(): void {
    this.stop.abort();
    this.conversations.el.remove();
  }
}
