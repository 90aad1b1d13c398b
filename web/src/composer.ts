import { codePoints, LIMITS } from "../../src/limits.js";
import { h } from "./dom.js";
import { textProblem } from "./names.js";
import { PasteOffer } from "./paste-offer.js";

/** Refresh "typing" at most this often while keys keep coming (the server coalesces to 1 s too). */
const TYPING_REFRESH_MS = 1000;

/** Unsent text by room, for the page's life: leaving a room and coming back keeps what was typed. */
const drafts = new Map<string, string>();

/** What the composer asks of the room. */
export interface ComposerActions {
  send(text: string): void;
  /** Post several pasted lines, one message each. */
  sendLines(lines: string[]): void;
  /** typing: true while keys are typed (throttled), false once the box is cleared. */
  typing(typing: boolean): void;
}

/**
 * The send box: Enter sends, Shift+Enter starts a new line, a live counter
 * against the text limit (src/limits.ts, counted as the server counts: code
 * points after trimming), and typing signals throttled to one a second. A
 * paste of several lines offers to send them as one message each. What is
 * typed and not sent waits in `drafts` for the room's next composer.
 */
export class Composer {
  readonly el: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly counter: HTMLElement;
  private readonly button: HTMLButtonElement;
  private typingSentAt = 0;

  /**
   * `label`: the room as people read it ("#lobby", or a conversation's other
   * people); `room`: whose draft this box keeps.
   */
  constructor(
    label: string,
    private readonly actions: ComposerActions,
    private readonly room: string,
  ) {
    this.input = h("textarea", {
      attrs: { rows: "1", placeholder: `Message ${label}`, "aria-label": `Message ${label}` },
    });
    this.counter = h("span", { class: "counter", attrs: { "aria-live": "polite" } });
    this.button = h("button", { class: "primary", text: "Send", attrs: { type: "submit" } });
    const paste = new PasteOffer(
      (lines) => actions.sendLines(lines),
      (text) => this.insert(text),
    );
    this.el = h(
      "form",
      { class: "composer" },
      paste.el,
      this.input,
      h("div", { class: "composer-side" }, this.counter, this.button),
    );
    this.input.addEventListener("paste", (e) => {
      if (paste.offer(e.clipboardData?.getData("text/plain") ?? "")) e.preventDefault();
    });
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("keydown", (e) => {
      // isComposing: Enter that confirms an IME composition must not send.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.el.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.value = drafts.get(room) ?? "";
    this.update();
    // A draft's height is measured once the box is on the page.
    if (this.input.value !== "") requestAnimationFrame(() => this.update());
  }

  focus(): void {
    this.input.focus();
  }

  /** Put `text` where the cursor is, as a plain paste would. */
  private insert(text: string): void {
    const { selectionStart: start, selectionEnd: end, value } = this.input;
    this.input.value = value.slice(0, start) + text + value.slice(end);
    this.input.selectionStart = this.input.selectionEnd = start + text.length;
    this.input.focus();
    this.onInput();
  }

  private submit(): void {
    if (textProblem(this.input.value) !== undefined) return;
    this.actions.send(this.input.value.trim());
    this.input.value = "";
    drafts.delete(this.room);
    // The stored message itself ends our typing for everyone (see SetTyping).
    this.typingSentAt = 0;
    this.update();
  }

  private onInput(): void {
    this.update();
    if (this.input.value === "") drafts.delete(this.room);
    else drafts.set(this.room, this.input.value);
    const empty = this.input.value.trim() === "";
    if (empty && this.typingSentAt > 0) {
      this.typingSentAt = 0;
      this.actions.typing(false);
    } else if (!empty && Date.now() - this.typingSentAt >= TYPING_REFRESH_MS) {
      this.typingSentAt = Date.now();
      this.actions.typing(true);
    }
  }

  private update(): void {
    const n = codePoints(this.input.value.trim());
    const max = LIMITS.textMaxChars;
    const problem = textProblem(this.input.value);
    this.counter.textContent = `${n}/${max}`;
    this.counter.className = n > max ? "counter over" : n > max - 50 ? "counter near" : "counter";
    // Empty is not worth a tooltip; too long or broken text says why Send is off.
    this.counter.title = n > 0 && problem !== undefined ? problem : "characters";
    this.button.disabled = problem !== undefined;
    // Grow with the text, up to the CSS max-height. Empty, the box keeps its
    // own one row: measured before it is on the page (the constructor's
    // call), scrollHeight is 0, and the placeholder was cut off until
    // something was typed.
    if (this.input.value === "") {
      this.input.style.height = "";
      return;
    }
    this.input.style.height = "auto";
    this.input.style.height = `${this.input.scrollHeight}px`;
  }
}
