import { LIMITS } from "../../src/limits.js";
import { h } from "./dom.js";
import { authorProblem } from "./names.js";

/** What the welcome card shows and does. */
export interface WelcomeOptions {
  /** The name in the field at first. */
  name: string;
  heading: string;
  /** A problem to show at once (the last try's). */
  problem?: string | undefined;
  /** Take the chosen (checked, trimmed) name; resolves with a problem to show, or undefined when done. */
  submit(name: string): Promise<string | undefined>;
  /** Changing a name one has: go back to where one was (a Cancel button, and Escape). */
  cancel?: (() => void) | undefined;
}

/**
 * The welcome card: choose the display name others see. The name is
 * checked with the server's rules first; `submit` may still refuse it (a
 * guest name someone holds), and then the card stays for another try.
 */
export function welcomeCard(options: WelcomeOptions): { el: HTMLElement; focus(): void } {
  const input = h("input", {
    class: "text",
    attrs: {
      id: "display-name",
      name: "name",
      // Room for surrounding spaces and astral characters; authorProblem judges the rest.
      maxlength: String(LIMITS.authorMaxChars * 2),
      autocomplete: "nickname",
      placeholder: "e.g. Alice",
      value: options.name,
    },
  });
  const error = h("p", {
    class: "field-error",
    text: options.problem ?? "",
    attrs: { role: "alert" },
  });
  const button = h("button", {
    class: "primary",
    text: "Start chatting",
    attrs: { type: "submit" },
  });
  const { cancel } = options;
  const back =
    cancel === undefined
      ? null
      : h("button", { class: "secondary", text: "Cancel", attrs: { type: "button" } });
  back?.addEventListener("click", () => cancel?.());
  const form = h(
    "form",
    { class: "welcome" },
    h("h2", { text: options.heading }),
    h("p", { text: "Pick the name others will see next to your messages." }),
    cancel === undefined
      ? null
      : h("p", {
          class: "name-change-note",
          text: "Your rooms, conversations and unread counts belong to your name: a new name starts without them.",
        }),
    h("label", { text: "Display name", attrs: { for: "display-name" } }),
    input,
    error,
    back === null ? button : h("div", { class: "welcome-actions" }, back, button),
  );
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && cancel !== undefined) cancel();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (button.disabled) return;
    const problem = authorProblem(input.value);
    error.textContent = problem ?? "";
    if (problem) return;
    button.disabled = true;
    void options.submit(input.value.trim()).then((refused) => {
      button.disabled = false;
      error.textContent = refused ?? "";
      if (refused !== undefined) input.focus();
    });
  });
  return { el: form, focus: () => input.focus() };
}
