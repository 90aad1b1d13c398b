import "./styles.css";
import { Code, ConnectError } from "@connectrpc/connect";
import { isConversationId } from "../../src/limits.js";
import { authInterceptor } from "./auth-interceptor.js";
import { type AuthMode, modeWithoutGuests } from "./auth-mode.js";
import { AuthSession, type SessionEnd } from "./auth-session.js";
import { ConnectionIndicator } from "./connection-status.js";
import { avatar, byId, h } from "./dom.js";
import { MembersPanel } from "./members-panel.js";
import { conversationName } from "./my-rooms.js";
import { roomProblem } from "./names.js";
import { PageLink } from "./page-link.js";
import { PersonRooms } from "./person-rooms.js";
import { RoomPicker } from "./room-picker.js";
import { RoomView } from "./room-view.js";
import { RttProbe } from "./rtt-probe.js";
import { saveAuthMode, savedAuthMode } from "./saved-auth-mode.js";
import { savedName, saveName } from "./saved-name.js";
import { savedToken } from "./saved-token.js";
import { problemCard, sessionEndedCard, tokenCard } from "./session-cards.js";
import { readClaims } from "./token-claims.js";
import { welcomeCard } from "./welcome-card.js";

/**
 * The page: top bar, room list, the open room, its members. The room is in
 * the URL's hash (#lobby, or a conversation's #dm.… id), so a link opens it;
 * the display name (and, where the server checks tokens, the token) is kept
 * in this browser. Where the server knows who you are, your rooms and
 * conversations come from your feed (person-rooms.ts), with unread counts
 * beside them and their total in the tab's title.
 */
const DEFAULT_ROOM = "lobby";

// Login goes over fetch: it runs before the page needs its socket (nothing opens before sign-in).
const session: AuthSession = new AuthSession((request, timeoutMs) =>
  link.http.rpc.login(request, { timeoutMs }),
);
const link: PageLink = new PageLink([authInterceptor(session)]);
const api = link.api;
const app = byId("app");
const chat = byId("chat");
const title = byId("room-title");
const identity = byId<HTMLButtonElement>("identity");
const scrim = byId("scrim");
const status = new ConnectionIndicator(byId("status"));
const membersCount = byId("members-toggle-count");
let me = "";
let members: MembersPanel | undefined;
let view: RoomView | undefined;
/** Signed in: your rooms and conversations (with --auth guest or jwt), and the round-trip probe (on the WebSocket). */
let person: PersonRooms | undefined;
let rtt: RttProbe | undefined;
/** The room or conversation in the URL. */
let current = "";
/** Counts startLive calls, so a link decided after a later one starts nothing for the earlier. */
let liveGeneration = 0;

// Rooms are listed once there is someone to list them for: before that, ListRooms would be refused.
const picker = new RoomPicker(
  byId("rooms"),
  api,
  (room) => {
    location.hash = room;
    closeDrawers();
  },
  () => me !== "",
);

function roomFromHash(): string {
  let room: string;
  try {
    room = decodeURIComponent(location.hash.slice(1)).toLowerCase();
  } catch {
    return DEFAULT_ROOM; // a malformed %-escape names no room
  }
  return roomProblem(room) === undefined ? room : DEFAULT_ROOM;
}

function openRoom(): void {
  if (session.mode === undefined) return; // start() opens it once the mode is known
  closeView();
  const room = roomFromHash();
  // The address names the room shown, so it can be copied: "/" and a name
  // that is no room (shown as the default) become "/#lobby", in place.
  if (location.hash !== `#${room}`) history.replaceState(null, "", `#${room}`);
  const conversation = isConversationId(room);
  current = room;
  renderTitle();
  // A conversation is never listed with the rooms (only in its participants' Conversations).
  picker.setCurrent(conversation ? "" : room);
  if (me === "") {
    if (session.mode === "jwt") askToken();
    else askName(savedName() ?? "");
    return;
  }
  const people = person;
  members = new MembersPanel(
    byId("members"),
    me,
    (n) => {
      membersCount.textContent = String(n);
    },
    people && ((name) => void messagePerson(name)),
    conversation ? "In this conversation" : "In this room",
  );
  people?.open(room);
  view = new RoomView(room, {
    link,
    label: conversation ? (conversationLabel() ?? "this conversation") : `#${room}`,
    me,
    members,
    onStatus: (s) => status.update(s),
    onActivity: () => picker.refreshSoon(),
    onMembers: (n) => {
      if (!conversation) picker.setLive(n);
    },
    onLastMessage: (seq, at) => {
      if (!conversation) picker.setLastMessage(seq, at);
      people?.shown(room, seq);
    },
  });
  chat.replaceChildren(view.el);
  view.focus();
}

/** The header and the tab's title: the room (or the conversation's people), after the unread total. */
function renderTitle(): void {
  if (isConversationId(current)) {
    const name = conversationLabel() ?? "Conversation";
    title.replaceChildren(h("span", { class: "hash", text: "@" }), name);
    document.title = `${unreadPrefix()}${name} — Parley`;
  } else {
    title.replaceChildren(h("span", { class: "hash", text: "#" }), current);
    document.title = `${unreadPrefix()}#${current} — Parley`;
  }
}

/** The open conversation's other people ("bo", "bo, cy"), once the page knows them. */
function conversationLabel(): string | undefined {
  const participants = person?.rooms.get(current)?.participants ?? [];
  return participants.length > 0 ? conversationName(participants, me) : undefined;
}

/** "(3) " while 3 messages wait unread in your rooms and conversations; "" when none do. */
function unreadPrefix(): string {
  const n = person?.total() ?? 0;
  return n > 0 ? `(${n}) ` : "";
}

/** "message" beside a member: open the conversation with them (the same one each time) and show it. */
async function messagePerson(name: string): Promise<void> {
  try {
    const answer = await api.rpc.openConversation({ participants: [name] });
    const conversation = answer.conversation;
    if (conversation === undefined) return;
    person?.rooms.add(conversation);
    location.hash = conversation.room;
    closeDrawers();
  } catch (error) {
    view?.notice(
      `Could not open a conversation with ${name}: ${ConnectError.from(error).rawMessage}`,
    );
  }
}

function closeView(): void {
  view?.close();
  view = undefined;
  picker.setLive(undefined);
  status.reset();
  // Nobody is shown in a room the page is not in (issue 19: "(you)" stayed on the signed-out screen).
  members = undefined;
  byId("members").replaceChildren();
  membersCount.textContent = "";
}

/** Signed in (or named, with --auth off) as `name`: show it and open the room. */
function enter(name: string): void {
  me = name;
  saveName(me);
  startLive(name);
  renderIdentity();
  void picker.refresh();
  openRoom();
}

/**
 * Signed in as `name`: where the server knows people (not --auth off),
 * follow your feed for your rooms, conversations and unread counts; once the
 * link is decided, over the WebSocket, measure the round trip.
 */
function startLive(name: string): void {
  stopLive();
  if (session.mode !== "off") {
    const people = new PersonRooms(api, name, {
      pick: (room) => {
        location.hash = room;
        closeDrawers();
      },
      onChange: () => {
        picker.redraw();
        renderTitle();
      },
    });
    person = people;
    picker.othersSection.before(people.conversations.el);
    picker.unread = (room) => people.unread(room);
    picker.liveSeq = (room) => people.rooms.get(room)?.lastSeq;
    picker.mine = () =>
      people.rooms.known
        ? new Set(people.rooms.all().flatMap((m) => (isConversationId(m.room) ? [] : [m.room])))
        : undefined;
    // The feed's "left" event moves the room to "More rooms"; a refusal is said where the box's are.
    picker.leave = (room) => {
      api.rpc.leaveRoom({ room }).catch((error: unknown) => {
        picker.showError(`Could not leave #${room}: ${ConnectError.from(error).rawMessage}`);
      });
    };
  }
  const generation = ++liveGeneration;
  void link.decide().then((mode) => {
    status.setWay(mode);
    if (mode !== "websocket" || generation !== liveGeneration || me !== name) return;
    rtt = new RttProbe(api, (ms) => status.setRtt(ms));
  });
}

function stopLive(): void {
  liveGeneration++;
  person?.close();
  rtt?.stop();
  status.setRtt(undefined);
  person = rtt = undefined;
  picker.unread = () => 0;
  picker.liveSeq = () => undefined;
  picker.mine = () => undefined;
  picker.leave = undefined;
  picker.redraw();
}

/** The welcome card: choose (or change) the display name; a guest logs in with it. */
function askName(name: string, problem?: string): void {
  closeView();
  const card = welcomeCard({
    name,
    problem,
    heading: me === "" ? "Welcome to Parley" : "Change your name",
    // Keeping the name one has: back to the room as it was.
    cancel: me === "" ? undefined : openRoom,
    submit: async (chosen) => {
      if (session.mode !== "guest") {
        enter(chosen);
        return undefined;
      }
      try {
        enter(await session.logIn(chosen));
        saveAuthMode("guest");
        return undefined;
      } catch (error) {
        if (ConnectError.from(error).code === Code.FailedPrecondition) return learnMode(chosen);
        return loginProblem(chosen, error);
      }
    },
  });
  chat.replaceChildren(card.el);
  card.focus();
}

function loginProblem(name: string, error: unknown): string {
  const failure = ConnectError.from(error);
  if (failure.code === Code.AlreadyExists) {
    return `The name "${name}" is in use by someone else. Pick another name.`;
  }
  return couldNotLogIn(failure);
}

/**
 * Why a login failed, for the person at the card. A server that cannot be
 * reached surfaces as the browser's own words ("Failed to fetch", code
 * unknown or unavailable), which say nothing to a person: say what it means.
 */
function couldNotLogIn(failure: ConnectError): string {
  const unreachable =
    failure.code === Code.Unavailable ||
    (failure.code === Code.Unknown && /fetch|network|load failed/i.test(failure.rawMessage));
  return unreachable
    ? "Could not reach the server: it may be down or restarting. Try again in a moment."
    : `Could not log in: ${failure.rawMessage}`;
}

/**
 * Login answered that this server hands out no guest tokens: learn whether
 * it checks none (off: the name is only a label) or takes the operator's
 * (jwt: ask for a token), and remember it for the next load.
 */
async function learnMode(name: string): Promise<string | undefined> {
  let mode: AuthMode;
  session.mode = undefined; // the probe goes out as it is, without the guest's "not signed in"
  try {
    mode = await modeWithoutGuests(link.http.rpc);
  } catch (error) {
    session.mode = "guest";
    return couldNotLogIn(ConnectError.from(error));
  }
  session.mode = mode;
  saveAuthMode(mode);
  if (mode === "off") enter(name);
  else askToken();
  return undefined;
}

/** jwt mode: the page needs a token from the operator. */
function askToken(): void {
  closeView();
  chat.replaceChildren(
    tokenCard((token) => {
      try {
        enter(session.adopt(token));
        return undefined;
      } catch {
        return 'That is not a token: a JWT with a "sub" claim is needed.';
      }
    }),
  );
}

/** The session ended (refused, not allowed, expired): say so, and offer to sign in again. */
function sessionEnded(end: SessionEnd): void {
  // The server may have changed how it knows its callers: learn it afresh on the next load.
  if (session.mode === "jwt" && end.kind === "refused") saveAuthMode(undefined);
  closeView();
  stopLive();
  me = "";
  renderIdentity();
  const again =
    session.mode === "jwt"
      ? sessionEndedCard(end, "Enter a new token", askToken)
      : sessionEndedCard(end, "Log in again", () => askName(end.name));
  chat.replaceChildren(again);
}

/**
 * Start in the mode this page learned before, or as a guest (the default),
 * and resume a kept sign-in. Nothing is called that is known to fail: no
 * probe, no ListRooms before sign-in (the mode is learned from the first
 * Login's answer, see learnMode).
 */
async function start(): Promise<void> {
  session.mode = savedAuthMode() ?? "guest";
  session.onEnded = sessionEnded;
  session.onChecksOn = () => {
    // Learned "off" before, but the server checks tokens now: sign in as a guest.
    saveAuthMode(undefined);
    session.mode = "guest";
    askName(me);
  };
  const token = savedToken();
  const claims = token === undefined ? undefined : readClaims(token);
  if (session.mode === "off" || token === undefined || claims === undefined) {
    if (session.mode === "off") me = savedName() ?? "";
    renderIdentity();
    openRoom();
    return;
  }
  if (session.mode === "jwt") {
    enter(session.adopt(token));
    return;
  }
  // A guest token from before a reload: renewing it (with the name's key) keeps the name.
  try {
    enter(await session.logIn(claims.sub, token));
  } catch (error) {
    if (ConnectError.from(error).code === Code.FailedPrecondition) {
      const problem = await learnMode(claims.sub);
      if (problem !== undefined) chat.replaceChildren(problemCard(problem));
      return;
    }
    askName(claims.sub, loginProblem(claims.sub, error));
  }
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
// Escape closes an open drawer, as it closes any panel laid over the page.
addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !scrim.hidden) closeDrawers();
});
identity.addEventListener("click", () => {
  if (session.mode === "jwt") askToken();
  else if (session.mode !== undefined) askName(me);
});
addEventListener("hashchange", openRoom);
renderIdentity();
void start();
