import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ChatMessage } from "../../gen/chat/v1/chat_pb.js";
import { avatar, h } from "./dom.js";

/** Messages by one author this close together share one header. */
const GROUP_WINDOW_MS = 5 * 60_000;
/** Within this many pixels of an edge counts as being at it. */
const EDGE_PX = 48;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A page of older messages. */
export interface OlderPage {
  messages: ChatMessage[];
  hasMore: boolean;
}

/**
 * The scrolling list of a room's messages and notices. Messages are keyed by
 * seq and shown once each, in seq order. New ones stick to the bottom only
 * when the reader is already there (otherwise a "new messages" button
 * appears); scrolling to the top loads earlier ones with `loadOlder`, keeping
 * the view where it was. Messages being sent show below the rest until they
 * come back with their seq.
 */
export class MessageList {
  readonly el: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly edge: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private readonly rows = new Map<number, HTMLElement>();
  private readonly pending = new Map<string, HTMLElement>();
  private hasMore = false;
  private loading = false;
  private unseen = 0;
  /** Whether the reader was at the bottom when the list last scrolled. */
  private atBottom = true;

  constructor(
    /** The room as people read it: "#lobby", or a conversation's other people. */
    private readonly label: string,
    private readonly me: string,
    private readonly loadOlder: (beforeSeq: number) => Promise<OlderPage>,
  ) {
    this.edge = h("div", { class: "history-edge" });
    this.scroller = h("div", { class: "messages", attrs: { role: "log", "aria-live": "polite" } });
    this.scroller.append(this.edge);
    this.jump = h("button", { class: "jump", attrs: { type: "button" } });
    this.jump.hidden = true;
    this.jump.addEventListener("click", () => this.scrollToBottom());
    this.el = h("div", { class: "message-pane" }, this.scroller, this.jump);
    this.el.style.display = "contents";
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    // The list shrinks as the send box grows (a long draft, the paste bar) or
    // the window does: a reader at the bottom stays there, rather than having
    // the newest messages slide out of view with no scroll of theirs.
    new ResizeObserver(() => {
      if (this.atBottom) this.scrollToBottom();
    }).observe(this.scroller);
  }

  /** Show the newest page of the room (replacing anything shown). */
  reset(messages: readonly ChatMessage[], hasMore: boolean): void {
    const keep = new Set<Element>([this.edge, ...this.pending.values()]);
    for (const child of [...this.scroller.children]) if (!keep.has(child)) child.remove();
    this.rows.clear();
    this.hasMore = hasMore;
    // A post that was stored while its stream broke shows as the message it became.
    for (const m of messages) this.dropPending(m.clientMessageId);
    for (const m of messages) this.insertRow(this.messageRow(m), this.firstPendingOrNull());
    this.renderEdge();
    this.scrollToBottom();
    this.fillViewport();
  }

  /** A live message, the next in seq order. Confirms it if it was ours and pending. */
  append(m: ChatMessage): void {
    const seq = Number(m.seq);
    if (this.rows.has(seq)) return;
    const stick = this.nearBottom() || m.author === this.me;
    this.dropPending(m.clientMessageId);
    this.insertRow(this.messageRow(m), this.firstPendingOrNull());
    this.afterLiveInsert(stick);
  }

  /** A line about the room (join, leave, reconnects), not a message. */
  notice(text: string, tone: "info" | "warn" = "info"): HTMLElement {
    const stick = this.nearBottom();
    const row = h("div", { class: tone === "warn" ? "notice warn" : "notice", text });
    this.scroller.insertBefore(row, this.firstPendingOrNull());
    this.afterLiveInsert(stick);
    return row;
  }

  /** Show a message being sent until it comes back with its seq. */
  addPending(clientMessageId: string, text: string): void {
    const row = this.bubble("message own pending", this.me, text);
    row.dataset.clientId = clientMessageId;
    row.append(h("div", { class: "pending-note", text: "Sending…" }));
    this.pending.set(clientMessageId, row);
    this.scroller.append(row);
    this.scrollToBottom();
  }

  /** A pending message failed for good: say so and offer to try again. */
  failPending(clientMessageId: string, reason: string, retry: () => void): void {
    const row = this.pending.get(clientMessageId);
    if (!row) return;
    row.className = "message own failed";
    const button = h("button", { text: "Retry", attrs: { type: "button" } });
    button.addEventListener("click", () => {
      row.className = "message own pending";
      note.replaceChildren("Sending…");
      retry();
    });
    const note = h("div", { class: "pending-note" }, `Not sent: ${reason}.`, button);
    row.querySelector(".pending-note")?.replaceWith(note);
  }

  /** The newest seq shown (0 when none). */
  get lastSeq(): number {
    let last = 0;
    for (const seq of this.rows.keys()) last = Math.max(last, seq);
    return last;
  }

  private dropPending(clientMessageId: string): void {
    if (clientMessageId === "") return;
    this.pending.get(clientMessageId)?.remove();
    this.pending.delete(clientMessageId);
  }

  private afterLiveInsert(stick: boolean): void {
    if (stick) {
      this.scrollToBottom();
      return;
    }
    this.unseen++;
    this.jump.textContent = `${this.unseen} new ${this.unseen === 1 ? "message" : "messages"} ↓`;
    this.jump.hidden = false;
  }

  private messageRow(m: ChatMessage): HTMLElement {
    const row = this.bubble(m.author === this.me ? "message own" : "message", m.author, m.text);
    const seq = Number(m.seq);
    row.dataset.seq = String(seq);
    row.dataset.author = m.author;
    const at = m.sentAt ? timestampDate(m.sentAt) : new Date();
    row.dataset.at = String(at.getTime());
    const time = h("time", {
      class: "time",
      text: timeFormat.format(at),
      attrs: { datetime: at.toISOString(), title: fullFormat.format(at) },
    });
    row.querySelector(".meta")?.append(time, h("span", { class: "seq", text: `#${seq}` }));
    // Shown on hover in place of the avatar when the row continues a group.
    row.append(
      h("span", { class: "gutter", text: `#${seq}`, attrs: { title: fullFormat.format(at) } }),
    );
    this.rows.set(seq, row);
    return row;
  }

  private bubble(className: string, author: string, text: string): HTMLElement {
    return h(
      "div",
      { class: className },
      avatar(author),
      h("div", { class: "meta" }, h("span", { class: "author", text: author })),
      h("div", { class: "body", text }),
    );
  }

  /** Insert before `before` (null: at the end) and fix the grouping around it. */
  private insertRow(row: HTMLElement, before: Node | null): void {
    this.scroller.insertBefore(row, before);
    this.group(row);
    const next = row.nextElementSibling;
    if (next instanceof HTMLElement && next.dataset.seq) this.group(next);
  }

  /** A message continues the previous one when the same author sent it shortly after. */
  private group(row: HTMLElement): void {
    const prev = row.previousElementSibling;
    const continued =
      prev instanceof HTMLElement &&
      prev.dataset.seq !== undefined &&
      prev.dataset.author === row.dataset.author &&
      Number(row.dataset.at) - Number(prev.dataset.at) < GROUP_WINDOW_MS;
    row.classList.toggle("continued", continued);
  }

  private firstPendingOrNull(): Node | null {
    return this.pending.values().next().value ?? null;
  }

  private nearBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < EDGE_PX;
  }

  private scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.atBottom = true;
    this.unseen = 0;
    this.jump.hidden = true;
  }

  private onScroll(): void {
    this.atBottom = this.nearBottom();
    if (this.atBottom) {
      this.unseen = 0;
      this.jump.hidden = true;
    }
    if (this.scroller.scrollTop < EDGE_PX) void this.loadEarlier();
  }

  /** Keep loading while the list does not fill the view (nothing to scroll yet). */
  private fillViewport(): void {
    if (this.scroller.scrollHeight <= this.scroller.clientHeight) void this.loadEarlier();
  }

  private async loadEarlier(): Promise<void> {
    const oldest = Math.min(...this.rows.keys());
    if (!this.hasMore || this.loading || !Number.isFinite(oldest)) return;
    this.loading = true;
    this.renderEdge();
    try {
      const page = await this.loadOlder(oldest);
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      const anchor = this.edge.nextSibling;
      for (const m of page.messages) {
        if (!this.rows.has(Number(m.seq))) this.insertRow(this.messageRow(m), anchor);
      }
      this.hasMore = page.hasMore;
      // Keep what the reader was looking at in place.
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    } catch {
      // Offline for now: the next scroll to the top tries again.
    } finally {
      this.loading = false;
      this.renderEdge();
    }
    this.fillViewport();
  }

  private renderEdge(): void {
    this.edge.textContent = this.loading
      ? "Loading earlier messages…"
      : this.hasMore
        ? "Scroll up for earlier messages"
        : `This is the beginning of ${this.label}.`;
  }
}
