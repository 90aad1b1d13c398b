import type { SubscriptionStatus } from "../../src/client/resuming-subscribe.js";
import { h } from "./dom.js";

/** What the indicator shows. */
export type ConnectionState = "idle" | "connected" | "reconnecting" | "offline";

/** Failed attempts in a row after which "reconnecting" becomes "offline". */
const OFFLINE_AFTER = 3;

/**
 * The connection indicator in the top bar: connected, reconnecting (with
 * the next try's countdown) or offline (the browser says so, or several tries
 * in a row failed; it keeps retrying).
 */
export class ConnectionIndicator {
  private countdown: ReturnType<typeof setInterval> | undefined;
  private last: SubscriptionStatus | undefined;

  constructor(private readonly el: HTMLElement) {
    addEventListener("online", () => this.render());
    addEventListener("offline", () => this.render());
    this.show("idle", "");
  }

  /** Reflect a subscription's status. */
  update(status: SubscriptionStatus): void {
    this.last = status;
    this.render();
  }

  /** No room is open. */
  reset(): void {
    this.last = undefined;
    this.render();
  }

  private render(): void {
    clearInterval(this.countdown);
    const s = this.last;
    if (!s) {
      this.show("idle", "");
      return;
    }
    if (s.state === "live") {
      this.show("connected", "Connected");
      return;
    }
    if (s.state === "connecting") {
      this.show(s.attempt === 0 ? "reconnecting" : this.failing(s.attempt), "Connecting…");
      return;
    }
    const until = Date.now() + s.delayMs;
    const tick = () => {
      const secs = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      const state = this.failing(s.attempt + 1);
      this.show(state, `${state === "offline" ? "Offline" : "Reconnecting"} — retry in ${secs}s`);
    };
    tick();
    this.countdown = setInterval(tick, 500);
  }

  private failing(attempts: number): ConnectionState {
    return !navigator.onLine || attempts >= OFFLINE_AFTER ? "offline" : "reconnecting";
  }

  private show(state: ConnectionState, label: string): void {
    this.el.dataset.state = state;
    this.el.replaceChildren(h("span", { class: "label", text: label }));
    this.el.title = label;
  }
}
