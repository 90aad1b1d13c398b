import { h } from "./dom.js";

/** "3" beside a room or conversation with messages after the read position; nothing when none. */
export function unreadBadge(n: number): HTMLElement | null {
  if (n <= 0) return null;
  return h("span", {
    class: "unread-badge",
    text: n > 99 ? "99+" : String(n),
    attrs: { "aria-label": `${n} unread`, "data-unread": String(n) },
  });
}
