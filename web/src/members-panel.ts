import type { Member } from "../../gen/chat/v1/chat_pb.js";
import { avatar, h } from "./dom.js";

/**
 * Who is in the room: the member list from Ready, kept current by join and
 * leave events. A person with several tabs is listed once; subscribers with
 * no name (EventSource and curl followers, say) are counted as watching.
 * Where the page can open conversations (`onMessage`), each other person
 * has a "message" button that opens the conversation with them.
 */
export class MembersPanel {
  private readonly members = new Map<string, string>();
  private myId = "";

  constructor(
    private readonly el: HTMLElement,
    private readonly me: string,
    private readonly onCount: (people: number) => void,
    private readonly onMessage?: (name: string) => void,
    /** The panel's heading, before the count. */
    private readonly place = "In this room",
  ) {}

  /** Replace the list (a new subscription's Ready). */
  reset(members: readonly Member[], myId: string): void {
    this.members.clear();
    this.myId = myId;
    for (const m of members) this.members.set(m.memberId, m.author);
    this.render();
  }

  /** Someone joined; returns whether that name is new to the room. */
  add(memberId: string, author: string): boolean {
    const isNew = author !== "" && !this.hasAuthor(author);
    this.members.set(memberId, author);
    this.render();
    return isNew;
  }

  /** Someone left; returns whether that name is now gone from the room. */
  remove(memberId: string): { author: string; gone: boolean } {
    const author = this.members.get(memberId) ?? "";
    this.members.delete(memberId);
    this.render();
    return { author, gone: author !== "" && !this.hasAuthor(author) };
  }

  /** How many subscriptions the room has now (yours included), as ListRooms counts them. */
  get size(): number {
    return this.members.size;
  }

  /** The names present now. */
  authors(): string[] {
    return [...new Set(this.members.values())].filter((a) => a !== "");
  }

  /** Nobody is known (the room closed). */
  clear(): void {
    this.reset([], "");
  }

  private hasAuthor(author: string): boolean {
    for (const a of this.members.values()) if (a === author) return true;
    return false;
  }

  private messageButton(name: string): HTMLElement | null {
    const onMessage = this.onMessage;
    if (onMessage === undefined) return null;
    // An icon, not the word: in a 220 px column the word left a name 6 letters.
    const button = h("button", {
      class: "message-button",
      text: "✉",
      attrs: { type: "button", title: `Message ${name}`, "aria-label": `Message ${name}` },
    });
    button.addEventListener("click", () => onMessage(name));
    return button;
  }

  private render(): void {
    const names = new Set<string>();
    let watching = 0;
    for (const [id, author] of this.members) {
      if (author !== "") names.add(author);
      else if (id !== this.myId) watching++;
    }
    const sorted = [...names].sort((a, b) =>
      a === this.me ? -1 : b === this.me ? 1 : a.localeCompare(b),
    );
    const list = h("ul", { class: "member-list" });
    for (const name of sorted) {
      list.append(
        h(
          "li",
          { class: "member", attrs: { "data-name": name } },
          avatar(name, true),
          h("span", { class: "name", text: name, attrs: { title: name } }),
          name === this.me ? h("span", { class: "you", text: "(you)" }) : null,
          h("span", { class: "dot", attrs: { title: "online" } }),
          name === this.me ? null : this.messageButton(name),
        ),
      );
    }
    this.el.replaceChildren(
      h("h2", { class: "section-label", text: `${this.place} — ${sorted.length}` }),
      list,
    );
    if (watching > 0) {
      this.el.append(h("p", { class: "watchers", text: `+ ${watching} watching without a name` }));
    }
    this.onCount(sorted.length);
  }
}
