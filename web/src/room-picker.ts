import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type RoomSummary, RoomSummarySchema } from "../../gen/chat/v1/chat_pb.js";
import type { ParleyClient } from "../../src/client/parley-client.js";
import { h } from "./dom.js";
import { roomProblem } from "./names.js";
import { unreadBadge } from "./unread-badge.js";

/** How often the list refreshes while the page is visible. */
const REFRESH_MS = 5000;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function ago(date: Date): string {
  const secs = Math.round((date.getTime() - Date.now()) / 1000);
  if (secs > -45) return "just now";
  const mins = Math.round(secs / 60);
  if (mins > -60) return relative.format(mins, "minute");
  const hours = Math.round(mins / 60);
  if (hours > -24) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}

/**
 * The room list (ListRooms: member counts, last seq, last activity), busiest
 * first, refreshed every few seconds, and a box to join or create a room by
 * name, which tells the naming rule when a name breaks it. Where the page
 * knows the person's rooms (their feed: see `mine`), those are listed under
 * "Rooms" and the others under "More rooms", to join. The open room's
 * last message comes from its own view (History, then each message), so its
 * entry is never behind what the page shows; an answer to an older ListRooms
 * never replaces a newer one.
 */
export class RoomPicker {
  private readonly list = h("ul", { class: "room-list" });
  private readonly others = h("ul", { class: "room-list other-rooms" });
  /** "More rooms": the rooms the person is not in, when `mine` tells them apart. */
  readonly othersSection = h(
    "section",
    { class: "more-rooms", attrs: { "aria-label": "More rooms" } },
    h("h2", { class: "section-label", text: "More rooms" }),
    this.others,
  );
  private readonly error = h("p", { class: "field-error", attrs: { role: "alert" } });
  private current = "";
  /**
   * The open room's members as its subscription knows them: a count once it
   * is live, "joining" while it connects, undefined before (ListRooms' count
   * is shown then). A ListRooms answer lags a join or leave by up to a
   * refresh; the subscription does not, so the open room never shows a count
   * without you in it (issue 14: the badge briefly showed 0).
   */
  private live: number | "joining" | undefined;
  private rooms: RoomSummary[] = [];
  /** The open room's newest message as its view knows it (seq 0: none); undefined until known. */
  private openLast: { seq: bigint; at: Date | undefined } | undefined;
  /** ListRooms calls started, and the number of the one whose answer is shown. */
  private asked = 0;
  private shown = 0;
  /** Whether a ListRooms answer came (before, a room missing from the list may have messages and members). */
  private loaded = false;
  private soon: ReturnType<typeof setTimeout> | undefined;
  /** Unread messages in a room (shown as a badge when above 0). */
  unread: (room: string) => number = () => 0;
  /** A room's newest seq as heard live (the person's feed), when newer than ListRooms said. */
  liveSeq: (room: string) => bigint | undefined = () => undefined;
  /**
   * Whether the person is a member of a room (their feed says so), to list
   * it under "Rooms"; undefined where the page knows no memberships (before
   * the feed's ready, or with --auth off): every room is listed there then.
   */
  mine: () => ReadonlySet<string> | undefined = () => undefined;
  /**
   * Leave one of the person's rooms (LeaveRoom); undefined where the page
   * knows no memberships. The open room is not offered: opening a room
   * joins it, so it would be joined again at once.
   */
  leave: ((room: string) => void) | undefined;

  /** `canList`: whether ListRooms may be called now (signed in); the list is not asked for before. */
  constructor(
    el: HTMLElement,
    private readonly api: ParleyClient,
    private readonly pick: (room: string) => void,
    private readonly canList: () => boolean = () => true,
  ) {
    const input = h("input", {
      class: "text",
      attrs: {
        name: "room",
        // Short enough to show whole in the sidebar (issue 19: it read "Join or create a ro").
        placeholder: "Room name",
        title: "Join or create a room by name",
        "aria-label": "Join or create a room by name",
        autocomplete: "off",
        autocapitalize: "none",
        spellcheck: "false",
      },
    });
    const form = h(
      "form",
      { class: "room-form" },
      h(
        "div",
        { class: "row" },
        input,
        h("button", { class: "primary", text: "Go", attrs: { type: "submit" } }),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const room = input.value.trim().toLowerCase();
      const problem = roomProblem(room);
      this.error.textContent = problem ?? "";
      if (problem) return;
      input.value = "";
      this.pick(room);
    });
    input.addEventListener("input", () => {
      this.error.textContent = "";
    });
    el.replaceChildren(
      h("h2", { class: "section-label", text: "Rooms" }),
      form,
      this.error,
      this.list,
      this.othersSection,
    );
    this.othersSection.hidden = true;
    setInterval(() => {
      if (document.visibilityState === "visible") void this.refresh();
    }, REFRESH_MS);
  }

  /** Say what went wrong with the list (a refused leave), where the room box says its problems. */
  showError(text: string): void {
    this.error.textContent = text;
  }

  /** Mark the open room. */
  setCurrent(room: string): void {
    if (room !== this.current) this.openLast = undefined;
    this.current = room;
    this.live = undefined;
    this.render();
    void this.refresh();
  }

  /** The open room's subscriptions now (from Ready, join and leave), or "joining" while it connects. */
  setLive(members: number | "joining" | undefined): void {
    if (members === this.live) return;
    this.live = members;
    this.render();
  }

  /** The open room's newest message as its view shows it (seq 0n: the room has none). */
  setLastMessage(seq: bigint, at: Date | undefined): void {
    const last = this.openLast;
    if (last !== undefined && (seq < last.seq || (seq === last.seq && at === undefined))) return;
    this.openLast = { seq, at };
    this.render();
  }

  /** Refresh shortly (coalescing bursts of room activity into one ListRooms call). */
  refreshSoon(): void {
    if (this.soon !== undefined) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, 1000);
  }

  /** Fetch the list again (quietly keeps the old one when offline). */
  async refresh(): Promise<void> {
    if (!this.canList()) return;
    const asked = ++this.asked;
    try {
      const page = await this.api.rpc.listRooms({ limit: 200 });
      if (asked < this.shown) return; // a newer answer is shown already
      this.shown = asked;
      this.loaded = true;
      this.rooms = page.rooms;
      this.render();
    } catch {
      // Offline: the connection indicator says so; keep showing the last list.
    }
  }

  /** Show the list again (an unread count changed). */
  redraw(): void {
    this.render();
  }

  private render(): void {
    const rooms = this.rooms.map((r) =>
      r.room === this.current ? this.withOpenLast(r) : this.withLiveSeq(r),
    );
    const joining = this.live === "joining";
    const live = this.live;
    const count = (r: RoomSummary) =>
      r.room === this.current && typeof live === "number" ? live : r.memberCount;
    if (this.current !== "" && !rooms.some((r) => r.room === this.current)) {
      rooms.push(this.withOpenLast(create(RoomSummarySchema, { room: this.current })));
    }
    const mine = this.mine();
    // The person's rooms that ListRooms does not list (no messages, nobody there) are theirs still.
    for (const room of mine ?? []) {
      if (!rooms.some((r) => r.room === room)) {
        rooms.push(this.withLiveSeq(create(RoomSummarySchema, { room })));
      }
    }
    const activity = (r: RoomSummary) => (r.lastActivity ? Number(r.lastActivity.seconds) : 0);
    rooms.sort(
      (a, b) => count(b) - count(a) || activity(b) - activity(a) || a.room.localeCompare(b.room),
    );
    // The open room is being joined (opening joins it): it belongs with the person's own.
    const inMine = (r: RoomSummary) =>
      mine === undefined || r.room === this.current || mine.has(r.room);
    const entry = (r: RoomSummary) => {
      const pending = joining && r.room === this.current;
      // Before the list is loaded, the open room's placeholder is not known to be empty.
      const unknown = !this.loaded && r.room === this.current;
      const meta =
        unknown && this.openLast === undefined
          ? ""
          : r.lastSeq === 0n
            ? "no messages yet"
            : `#${r.lastSeq}${r.lastActivity ? ` · ${ago(timestampDate(r.lastActivity))}` : ""}`;
      const button = h(
        "button",
        {
          class: "room-link",
          attrs: {
            type: "button",
            "data-room": r.room,
            "aria-current": String(r.room === this.current),
            title: `${count(r)} here now, last seq ${r.lastSeq}`,
          },
        },
        h("span", { class: "room-name", text: `# ${r.room}` }),
        unreadBadge(this.unread(r.room)),
        pending
          ? h("span", { class: "count-badge", text: "…", attrs: { "aria-label": "joining" } })
          : unknown && typeof live !== "number"
            ? null
            : h("span", {
                class: count(r) > 0 ? "count-badge live" : "count-badge",
                text: String(count(r)),
                attrs: { "aria-label": `${count(r)} here now` },
              }),
        h("span", { class: "room-meta", text: meta }),
      );
      button.addEventListener("click", () => this.pick(r.room));
      const leave = this.leave;
      const leavable = leave !== undefined && mine?.has(r.room) === true && r.room !== this.current;
      if (!leavable) return h("li", {}, button);
      const leaveButton = h("button", {
        class: "leave-button",
        text: "×",
        attrs: { type: "button", title: `Leave #${r.room}`, "aria-label": `Leave #${r.room}` },
      });
      leaveButton.addEventListener("click", () => leave(r.room));
      return h("li", { class: "leavable" }, button, leaveButton);
    };
    this.list.replaceChildren(...rooms.filter(inMine).map(entry));
    const others = rooms.filter((r) => !inMine(r));
    this.others.replaceChildren(...others.map(entry));
    this.othersSection.hidden = others.length === 0;
    if (rooms.length === 0 && this.canList()) {
      this.list.replaceChildren(h("li", { class: "empty-hint", text: "No rooms yet: make one." }));
    }
  }

  /** `r` with the newest seq the feed told, when ListRooms has not caught up. */
  private withLiveSeq(r: RoomSummary): RoomSummary {
    const seq = this.liveSeq(r.room);
    if (seq === undefined || seq <= r.lastSeq) return r;
    return create(RoomSummarySchema, { ...r, lastSeq: seq });
  }

  /** `r` with the open room's newest message when its view knows a newer one than ListRooms said. */
  private withOpenLast(r: RoomSummary): RoomSummary {
    const last = this.openLast;
    if (last === undefined || last.seq <= r.lastSeq) return r;
    return create(RoomSummarySchema, {
      ...r,
      lastSeq: last.seq,
      lastActivity: last.at === undefined ? r.lastActivity : timestampFromDate(last.at),
    });
  }
}
