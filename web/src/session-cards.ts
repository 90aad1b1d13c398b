import type { SessionEnd } from "./auth-session.js";
import { h } from "./dom.js";

const ENDED_HEADINGS: Record<SessionEnd["kind"], string> = {
  refused: "Signed out",
  denied: "Not allowed",
  expired: "Session expired",
};

/** The screen shown when a session ends: what happened, and one button to sign in again. */
export function sessionEndedCard(end: SessionEnd, action: string, onAction: () => void) {
  const button = h("button", { class: "primary", text: action, attrs: { type: "button" } });
  button.addEventListener("click", onAction);
  return h(
    "div",
    { class: "welcome session-ended", attrs: { role: "alert" } },
    h("h2", { text: ENDED_HEADINGS[end.kind] }),
    h("p", { class: "detail", text: end.detail }),
    button,
  );
}

/**
 * The card of a server that takes tokens only from its operator (`--auth
 * jwt`): it says so, and takes a token pasted in. `submit` resolves with a
 * problem to show, or undefined when the token was taken.
 */
export function tokenCard(submit: (token: string) => string | undefined): HTMLElement {
  const input = h("textarea", {
    class: "text",
    attrs: { id: "token", name: "token", rows: "4", spellcheck: "false", autocomplete: "off" },
  });
  const error = h("p", { class: "field-error", attrs: { role: "alert" } });
  const form = h(
    "form",
    { class: "welcome token-card" },
    h("h2", { text: "A token is needed" }),
    h("p", {
      text: "This server accepts only tokens from its operator's identity system. Ask your operator for one and paste it here.",
    }),
    h("label", { text: "Token", attrs: { for: "token" } }),
    input,
    error,
    h("button", { class: "primary", text: "Use this token", attrs: { type: "submit" } }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = submit(input.value.trim()) ?? "";
  });
  return form;
}

/** A card for a server the page cannot work with (it answered something unexpected). */
export function problemCard(message: string): HTMLElement {
  const button = h("button", { class: "primary", text: "Try again", attrs: { type: "button" } });
  button.addEventListener("click", () => location.reload());
  return h(
    "div",
    { class: "welcome", attrs: { role: "alert" } },
    h("h2", { text: "Cannot start" }),
    h("p", { class: "detail", text: message }),
    button,
  );
}
