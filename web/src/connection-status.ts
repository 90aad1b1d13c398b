import type { SubscriptionStatus } from "../../src/client/resuming-subscribe.js";
import { h } from "./dom.js";

/** What the indicator shows. */
export type ConnectionState = "idle" | "connected" | "reconnecting" | "offline";

/** Failed attempts in a row after which "reconnecting" becomes "offline". */
const OFFLINE_AFTER = 3;

/**
 * The connection indicator in the top bar: connected, reconnecting (with
 * the next try's countdown) or offline (the browser says so, or several tries
 * in a row failed; it keeps retrying). Connected over the WebSocket, it
 * shows the round-trip time measured over Echo (rtt-probe.ts); over fetch,
 * that it fell back to HTTP.
 */
export class ConnectionIndicator {
  private countdown: ReturnType<typeof setInterval> | undefined;
  private last: SubscriptionStatus | undefined;
  private rtt: number | undefined;
  private way: "websocket" | "http" | undefined;

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

  /** The round-trip time just measured (undefined: none now). */
  setRtt(ms: number | undefined): void {
    this.rtt = ms;
    if (this.last?.state === "live") this.render();
  }

  /** How the page's calls travel. */
  setWay(way: "websocket" | "http"): void {
    this.way = way;
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
      this.showConnected();
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

  private showConnected(): void {
    if (this.way === "http") {
      this.show("connected", "Connected", "over HTTP (no WebSocket)");
      this.el.title = "Connected over HTTP: WebSockets do not get through to the server from here";
      return;
    }
    this.show("connected", "Connected", this.rtt === undefined ? undefined : `${this.rtt} ms`);
    if (this.rtt !== undefined) {
      this.el.dataset.rtt = String(this.rtt);
      this.el.title = `Connected over WebSocket: round trip ${this.rtt} ms (Echo)`;
    }
  }

  private show(state: ConnectionState, label: string, detail?: string): void {
    delete this.el.dataset.rtt;
    if (this.way !== undefined) this.el.dataset.way = this.way;
    // Only a change is written: a new round-trip figure is not a change of state.
    if (this.el.dataset.state !== state) this.el.dataset.state = state;
    this.el.replaceChildren(h("span", { class: "label", text: label }));
    if (detail !== undefined) this.el.append(h("span", { class: "rtt", text: `· ${detail}` }));
    this.el.title = label;
  }
}
