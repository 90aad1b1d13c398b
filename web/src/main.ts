import "./styles.css";
import { createApi } from "./api.js";
import { ConnectionIndicator } from "./connection-status.js";
import { avatar, byId, h } from "./dom.js";
import { MembersPanel } from "./members-panel.js";
import { AUTHOR_MAX, authorProblem, roomProblem, savedName, saveName } from "./names.js";
import { RoomPicker } from "./room-picker.js";
import { RoomView } from "./room-view.js";

/**
 * The page: top bar, room list, the open room, its members. The room is in
 * the URL's hash (#lobby), so a link opens it; the display name is kept in
 * this browser.
 */
const DEFAULT_ROOM = "lobby";

const api = createApi();
const app = byId("app");
const chat = byId("chat");
const title = byId("room-title");
const identity = byId<HTMLButtonElement>("identity");
const scrim = byId("scrim");
const status = new ConnectionIndicator(byId("status"));
const membersCount = byId("members-toggle-count");
let me = savedName() ?? "";
let members: MembersPanel | undefined;
let view: RoomView | undefined;

const picker = new RoomPicker(byId("rooms"), api, (room) => {
  location.hash = room;
  closeDrawers();
});

function roomFromHash(): string {
  const room = decodeURIComponent(location.hash.slice(1)).toLowerCase();
  return roomProblem(room) === undefined ? room : DEFAULT_ROOM;
}

function openRoom(): void {
  view?.close();
  const room = roomFromHash();
  document.title = `#${room} — Parley`;
  title.replaceChildren(h("span", { class: "hash", text: "#" }), room);
  picker.setCurrent(room);
  if (me === "") {
    askName();
    return;
  }
  members = new MembersPanel(byId("members"), me, (n) => {
    membersCount.textContent = String(n);
  });
  view = new RoomView(room, {
    api,
    me,
    members,
    onStatus: (s) => status.update(s),
    onActivity: () => picker.refreshSoon(),
  });
  chat.replaceChildren(view.el);
  view.focus();
}

/** The welcome card: choose (or change) the display name others see. */
function askName(): void {
  view?.close();
  view = undefined;
  status.reset();
  const input = h("input", {
    class: "text",
    attrs: {
      id: "display-name",
      name: "name",
      maxlength: String(AUTHOR_MAX * 2),
      autocomplete: "nickname",
      placeholder: "e.g. Alice",
      value: me,
    },
  });
  const error = h("p", { class: "field-error", attrs: { role: "alert" } });
  const form = h(
    "form",
    { class: "welcome" },
    h("h2", { text: me === "" ? "Welcome to Parley" : "Change your name" }),
    h("p", { text: "Pick the name others will see next to your messages." }),
    h("label", { text: "Display name", attrs: { for: "display-name" } }),
    input,
    error,
    h("button", { class: "primary", text: "Start chatting", attrs: { type: "submit" } }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const problem = authorProblem(input.value);
    error.textContent = problem ?? "";
    if (problem) return;
    me = input.value.trim();
    saveName(me);
    renderIdentity();
    openRoom();
  });
  chat.replaceChildren(form);
  input.focus();
}

function renderIdentity(): void {
  identity.replaceChildren();
  if (me !== "") identity.append(avatar(me, true), h("span", { class: "name", text: me }));
}

/** Phone layout: rooms and members are drawers over the chat. */
function toggleDrawer(which: "rooms" | "members"): void {
  const open = !app.classList.contains(`show-${which}`);
  closeDrawers();
  app.classList.toggle(`show-${which}`, open);
  byId(`${which}-toggle`).setAttribute("aria-expanded", String(open));
  scrim.hidden = !open;
}

function closeDrawers(): void {
  app.classList.remove("show-rooms", "show-members");
  for (const id of ["rooms-toggle", "members-toggle"])
    byId(id).setAttribute("aria-expanded", "false");
  scrim.hidden = true;
}

byId("rooms-toggle").addEventListener("click", () => toggleDrawer("rooms"));
byId("members-toggle").addEventListener("click", () => toggleDrawer("members"));
scrim.addEventListener("click", closeDrawers);
identity.addEventListener("click", askName);
addEventListener("hashchange", openRoom);
renderIdentity();
openRoom();
