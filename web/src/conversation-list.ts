import { isConversationId } from "../../src/limits.js";
import { avatar, h } from "./dom.js";
import { conversationName, type MyRooms } from "./my-rooms.js";
import { unreadBadge } from "./unread-badge.js";

/**
 * The sidebar's "Conversations": the person's direct conversations from the
 * feed, named by their other participants, the most recent first, each with
 * its unread badge. Only a participant's feed lists a conversation, so
 * nobody else's page can show one.
 */
export class ConversationList {
  readonly el: HTMLElement;
  private readonly list = h("ul", { class: "room-list conversation-list" });
  private current = "";

  /** `unread`: the badge's count for a conversation (the open one reads as 0 while it is seen). */
  constructor(
    private readonly me: string,
    private readonly rooms: MyRooms,
    private readonly unread: (room: string) => number,
    private readonly pick: (room: string) => void,
  ) {
    this.el = h(
      "section",
      { class: "conversations", attrs: { "aria-label": "Conversations" } },
      h("h2", { class: "section-label", text: "Conversations" }),
      this.list,
    );
  }

  /** Mark the open conversation ("" when a room is open). */
  setCurrent(room: string): void {
    this.current = room;
    this.render();
  }

  /** Show the list again (the feed changed). */
  render(): void {
    const time = (d: Date | undefined) => d?.getTime() ?? 0;
    const conversations = this.rooms
      .all()
      .filter((m) => isConversationId(m.room))
      .sort((a, b) => time(b.lastActivity) - time(a.lastActivity) || a.room.localeCompare(b.room));
    this.list.replaceChildren(
      ...conversations.map((c) => {
        const name = conversationName(c.participants, this.me);
        const first = c.participants.find((p) => p !== this.me) ?? this.me;
        const button = h(
          "button",
          {
            class: "room-link conversation-link",
            attrs: {
              type: "button",
              "data-room": c.room,
              "aria-current": String(c.room === this.current),
              title: `Conversation with ${name}`,
            },
          },
          h(
            "span",
            { class: "room-name" },
            avatar(first, true),
            h("span", { class: "conversation-name", text: name }),
          ),
          unreadBadge(this.unread(c.room)),
        );
        button.addEventListener("click", () => this.pick(c.room));
        return h("li", {}, button);
      }),
    );
    if (conversations.length === 0) {
      this.list.replaceChildren(
        h("li", {
          class: "empty-hint",
          text: "None yet: ✉ beside someone in a room starts one.",
        }),
      );
    }
  }
}
