import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { RoomEvent } from "../../gen/chat/v1/chat_pb.js";
import { backoffDelay, sleep } from "../../src/client/backoff.js";
import { ResumeFailedError } from "../../src/client/resume-failed-error.js";
import type { SubscriptionStatus } from "../../src/client/resuming-subscribe.js";
import { isConversationId } from "../../src/limits.js";
import { newClientMessageId } from "./client-message-id.js";
import { Composer } from "./composer.js";
import { h } from "./dom.js";
import type { MembersPanel } from "./members-panel.js";
import { MessageList } from "./message-list.js";
import type { PageLink } from "./page-link.js";
import { postLines } from "./paste-lines.js";
import { type RoomFeed, roomFeed } from "./room-feed.js";
import { TypingIndicator } from "./typing-indicator.js";

/** Messages per History page. */
const PAGE = 50;
/** After a reconnect, joins by people who were here before it are not news for this long. */
const REJOIN_QUIET_MS = 15_000;
/**
 * Someone who left and is back within this long did not leave: a reload, or
 * a second tab coming and going.
 */
const LEAVE_QUIET_MS = 3000;

/** What a room view needs from the page around it. */
export interface RoomViewDeps {
  link: PageLink;
  /** The room as people read it: "#lobby", or a conversation's other people. */
  label: string;
  me: string;
  members: MembersPanel;
  onStatus(status: SubscriptionStatus): void;
  /** Something changed the room's summary (messages, members). */
  onActivity(): void;
  /** The room's subscriptions as this one knows them; "joining" until it is live. */
  onMembers(members: number | "joining"): void;
  /** The room's newest message as this view knows it (seq 0n: none), so the room list never lags it. */
  onLastMessage(seq: bigint, at: Date | undefined): void;
}

/**
 * One open room: the newest History page, then its feed from that page's
 * last seq (so nothing falls between the two): a Chat stream over the page's
 * WebSocket, or Subscribe and Send over fetch (room-feed.ts), kept alive
 * across disconnects: every message exactly once, in order, without
 * reloading the page. Close it to leave the room. A conversation the person
 * is not in answers NOT_FOUND, as one that does not exist: the view says
 * so and shows nothing of it.
 */
export class RoomView {
  readonly el: HTMLElement;
  private readonly list: MessageList;
  private readonly typing: TypingIndicator;
  private readonly composer: Composer;
  private readonly stop = new AbortController();
  /** Names in the room before the last disconnect, and until when their rejoins stay quiet. */
  private rejoining = new Set<string>();
  private rejoinQuietUntil = 0;
  /** "X left" notices waiting out LEAVE_QUIET_MS, by name. */
  private readonly leaving = new Map<string, ReturnType<typeof setTimeout>>();
  private everLive = false;
  /** The stream was live and is lost: "Connection lost" was said, "Reconnected." not yet. */
  private lost = false;
  /** The feed posts go to; undefined while one opens (posts made meanwhile wait for it). */
  private feed: RoomFeed | undefined;
  /**
   * Posts not yet seen stored, by client_message_id. A feed opened afresh
   * (the room's log was recreated) takes them all over: the one they went
   * to has ended, and the same id stores each at most once.
   */
  private readonly unconfirmed = new Map<string, string>();

  constructor(
    private readonly room: string,
    private readonly deps: RoomViewDeps,
  ) {
    this.list = new MessageList(deps.label, deps.me, (beforeSeq) =>
      deps.link.api.rpc.history({ room, beforeSeq: BigInt(beforeSeq), limit: PAGE }),
    );
    this.typing = new TypingIndicator(deps.me);
    this.composer = new Composer(
      deps.label,
      {
        send: (text) => this.send(text, newClientMessageId()),
        sendLines: (lines) => void this.sendLines(lines),
        typing: (typing) => {
          deps.link.api.rpc
            .setTyping({ room, author: deps.me, stopped: !typing })
            .catch(() => undefined); // typing is best effort: never worth an error
        },
      },
      room,
    );
    this.el = h("div", { class: "room-view" }, this.list.el, this.typing.el, this.composer.el);
    this.el.style.display = "contents";
    void this.run();
  }

  focus(): void {
    this.composer.focus();
  }

  /** A line in the room's stream from the page (not a message: nobody else sees it). */
  notice(text: string): void {
    this.list.notice(text, "warn");
  }

  /** Leave the room: the subscription ends, and the others see us leave. */
  close(): void {
    this.stop.abort();
    this.typing.clear();
    for (const timer of this.leaving.values()) clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const { link, me } = this.deps;
    const signal = this.stop.signal;
    this.deps.onMembers("joining");
    let why = "";
    while (!signal.aborted) {
      const page = await this.firstPage();
      if (!page) return;
      this.list.reset(page.messages, page.hasMore);
      for (const m of page.messages) this.unconfirmed.delete(m.clientMessageId);
      const newest = page.messages.at(-1);
      this.deps.onLastMessage(
        page.lastSeq,
        newest?.seq === page.lastSeq && newest.sentAt ? timestampDate(newest.sentAt) : undefined,
      );
      if (why !== "") this.list.notice(why, "warn");
      try {
        const feed = roomFeed(link.api, await link.decide(), this.room, me, {
          sinceSeq: page.lastSeq,
          epoch: page.epoch,
          signal,
          onStatus: (status) => this.onStatus(status),
        });
        this.feed = feed;
        for (const [clientMessageId, text] of this.unconfirmed)
          this.postOn(feed, text, clientMessageId);
        for await (const event of feed.events) this.handle(event);
        return;
      } catch (error) {
        // The server cannot continue without a hole: say so, and start again from what it has.
        if (error instanceof ResumeFailedError) {
          this.feed = undefined;
          why =
            error.reason === "epochChanged"
              ? "This room's history was reset on the server; showing it afresh."
              : `Some messages after #${error.lastSeq ?? 0} are no longer kept on the server; showing what it has.`;
          continue;
        }
        const message = error instanceof ConnectError ? error.rawMessage : String(error);
        this.list.notice(`Disconnected: ${message}. Reload the page to try again.`, "warn");
        return;
      }
    }
  }

  /** The newest History page, retried with backoff while the server is unreachable. */
  private async firstPage() {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.link.api.rpc.history(
          { room: this.room, limit: PAGE },
          { signal: this.stop.signal },
        );
      } catch (error) {
        if (this.stop.signal.aborted) return undefined;
        if (ConnectError.from(error).code === Code.NotFound) {
          this.notFound();
          return undefined;
        }
        const delayMs = backoffDelay(attempt, { initialDelayMs: 250, maxDelayMs: 5000 });
        this.deps.onStatus({
          state: "retrying",
          attempt,
          delayMs,
          error: ConnectError.from(error),
        });
        try {
          await sleep(delayMs, this.stop.signal);
        } catch {
          return undefined;
        }
      }
    }
  }

  /** Nothing to show: the server knows no such conversation for this person. */
  private notFound(): void {
    const conversation = isConversationId(this.room);
    // The server answered: the connection is fine, only the conversation is not there.
    this.deps.onStatus({ state: "live", epoch: "", lastSeq: undefined });
    this.el.replaceChildren(
      h(
        "div",
        { class: "not-found", attrs: { role: "alert" } },
        h("h2", { text: conversation ? "Conversation not found" : "Room not found" }),
        h("p", {
          text: conversation
            ? "There is no such conversation, or you are not in it."
            : "The server knows no such room.",
        }),
      ),
    );
  }

  private onStatus(status: SubscriptionStatus): void {
    this.deps.onStatus(status);
    if (status.state !== "live" && !this.stop.signal.aborted) this.deps.onMembers("joining");
    // Once per loss: a stream that reopens and drops again before its ready
    // (a server still restarting) starts its attempts afresh, but is the same loss.
    if (status.state === "retrying" && this.everLive && !this.lost) {
      this.lost = true;
      this.rejoining = new Set(this.deps.members.authors());
      this.list.notice("Connection lost. Reconnecting…", "warn");
    }
  }

  private handle(event: RoomEvent): void {
    const e = event.event;
    if (e.case !== "typing" && e.case !== "heartbeat") this.deps.onActivity();
    switch (e.case) {
      case "ready": {
        if (this.everLive) this.list.notice("Reconnected.");
        this.everLive = true;
        this.lost = false;
        this.typing.clear();
        this.deps.members.reset(e.value.members, e.value.memberId);
        this.rejoinQuietUntil = Date.now() + REJOIN_QUIET_MS;
        for (const m of e.value.members) this.rejoining.delete(m.author);
        break;
      }
      case "message":
        this.typing.set(e.value.author, false);
        this.list.append(e.value);
        this.deps.onLastMessage(
          e.value.seq,
          e.value.sentAt ? timestampDate(e.value.sentAt) : undefined,
        );
        break;
      case "join": {
        const isNew = this.deps.members.add(e.value.memberId, e.value.author);
        const quiet = this.rejoining.has(e.value.author) && Date.now() < this.rejoinQuietUntil;
        this.rejoining.delete(e.value.author);
        const back = this.leaving.get(e.value.author);
        clearTimeout(back);
        this.leaving.delete(e.value.author);
        if (isNew && !quiet && back === undefined) this.list.notice(`${e.value.author} joined`);
        break;
      }
      case "leave": {
        const { author, gone } = this.deps.members.remove(e.value.memberId);
        if (gone) {
          this.typing.set(author, false);
          clearTimeout(this.leaving.get(author));
          const timer = setTimeout(() => {
            this.leaving.delete(author);
            this.list.notice(`${author} left`);
          }, LEAVE_QUIET_MS);
          this.leaving.set(author, timer);
        }
        break;
      }
      case "typing":
        this.typing.set(e.value.author, !e.value.stopped);
        break;
      default:
        break;
    }
    if (
      (e.case === "ready" || e.case === "join" || e.case === "leave") &&
      !this.stop.signal.aborted
    ) {
      this.deps.onMembers(this.deps.members.size);
    }
  }

  private send(text: string, clientMessageId: string): void {
    this.list.addPending(clientMessageId, text);
    this.post(text, clientMessageId);
  }

  /**
   * Post (a retry uses the same idempotency key: if the first try was stored
   * after all, it is not stored twice); a post that fails for good says why
   * and offers to try again.
   */
  private post(text: string, clientMessageId: string): void {
    this.unconfirmed.set(clientMessageId, text);
    if (this.feed !== undefined) this.postOn(this.feed, text, clientMessageId);
  }

  private postOn(feed: RoomFeed, text: string, clientMessageId: string): void {
    feed.post(text, clientMessageId).then(
      () => this.unconfirmed.delete(clientMessageId),
      (error: unknown) => {
        // A feed that has since been replaced speaks for none of its posts.
        if (this.stop.signal.aborted || feed !== this.feed) return;
        this.unconfirmed.delete(clientMessageId);
        const reason = ConnectError.from(error).rawMessage;
        this.list.failPending(clientMessageId, reason, () => this.post(text, clientMessageId));
      },
    );
  }

  /** Pasted lines, one message each; progress while paced, then the summary, show in the room. */
  private async sendLines(lines: string[]): Promise<void> {
    const { link, me } = this.deps;
    let progress: HTMLElement | undefined;
    const report = await postLines(link.api, await link.decide(), this.room, me, lines, (text) => {
      if (this.stop.signal.aborted) return;
      if (progress) progress.textContent = text;
      else progress = this.list.notice(text);
    });
    progress?.remove();
    if (!this.stop.signal.aborted) this.list.notice(report.text, report.ok ? "info" : "warn");
  }
}
