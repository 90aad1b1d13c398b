import { h } from "./dom.js";
import { textProblem } from "./names.js";
import { pastedLines } from "./paste-lines.js";

/**
 * The bar a paste of several lines brings up above the send box: send them
 * as one message each (over one Listener stream, see paste-lines.ts), or
 * paste them into the box as one message, as a plain paste would. A line
 * the server would refuse is named, and nothing is sent until it is fixed.
 */
export class PasteOffer {
  readonly el: HTMLElement;

  constructor(
    private readonly sendLines: (lines: string[]) => void,
    private readonly pasteAsOne: (text: string) => void,
  ) {
    this.el = h("div", { class: "paste-offer", attrs: { role: "group", "aria-label": "Paste" } });
    this.el.hidden = true;
  }

  /** A paste: true when it has several lines and the offer took it (the box is left alone). */
  offer(text: string): boolean {
    const lines = pastedLines(text);
    if (lines.length < 2) return false;
    const bad = lines.findIndex((line) => textProblem(line) !== undefined);
    const send = h("button", {
      class: "primary",
      text: `Send as ${lines.length} messages`,
      attrs: { type: "button" },
    });
    send.disabled = bad >= 0;
    send.addEventListener("click", () => {
      this.close();
      this.sendLines(lines);
    });
    const one = h("button", {
      class: "secondary",
      text: "Paste as one message",
      attrs: { type: "button" },
    });
    one.addEventListener("click", () => {
      this.close();
      this.pasteAsOne(text);
    });
    const cancel = h("button", { class: "secondary", text: "Cancel", attrs: { type: "button" } });
    cancel.addEventListener("click", () => this.close());
    const what =
      bad >= 0
        ? `Line ${bad + 1} cannot be sent: ${textProblem(lines[bad] ?? "")?.replace(/\.$/, "")}.`
        : `${lines.length} lines pasted.`;
    this.el.replaceChildren(h("span", { class: "what", text: what }), send, one, cancel);
    this.el.hidden = false;
    return true;
  }

  close(): void {
    this.el.hidden = true;
    this.el.replaceChildren();
  }
}
