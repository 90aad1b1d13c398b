import { h } from "./dom.js";

/**
 * A safety net only: the server sends "stopped" 5 s after the last refresh,
 * but an event lost to a reconnect must not leave a name up forever.
 */
const LOCAL_EXPIRY_MS = 6000;

/** "alice is typing…" under the messages, from typing events (one's own are ignored). */
export class TypingIndicator {
  readonly el = h("div", { class: "typing", attrs: { "aria-live": "polite" } });
  private readonly typists = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly me: string) {}

  /** An author started (or still is) typing, or stopped. */
  set(author: string, typing: boolean): void {
    if (author === this.me) return;
    clearTimeout(this.typists.get(author));
    if (typing) {
      this.typists.set(
        author,
        setTimeout(() => this.set(author, false), LOCAL_EXPIRY_MS),
      );
    } else {
      this.typists.delete(author);
    }
    this.render();
  }

  /** Forget everyone (a new subscription starts from a clean slate). */
  clear(): void {
    for (const timer of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    this.render();
  }

  private render(): void {
    const names = [...this.typists.keys()];
    this.el.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : `${names.length} people are typing…`;
  }
}
