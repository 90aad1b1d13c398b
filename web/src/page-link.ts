import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { backoffDelay, sleep } from "../../src/client/backoff.js";
import { createParleyClientWith, type ParleyClient } from "../../src/client/parley-client.js";
import type { WebSocketConstructor } from "../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../src/client/ws-transport.js";
import { switchTransport } from "./switch-transport.js";

/** How the page's calls travel: one shared WebSocket, or fetch where no socket opens. */
export type LinkMode = "websocket" | "http";

/** A socket that has not opened within this long is taken as one that cannot (a proxy holding the upgrade). */
const OPEN_TIMEOUT_MS = 5000;
/** A person is waiting: come back quickly, and never wait more than 5 s between tries. */
const BACKOFF = { initialDelayMs: 250, maxDelayMs: 5000 };

/**
 * The page's way to the server. Calls go over ONE WebSocket (`/ws`), all
 * multiplexed on it, once it is known to open; over fetch (connect-web)
 * when it cannot. The rule, decided once per page load at the first call
 * that needs it: the socket opens → WebSocket. It does not open (refused,
 * or not open within 5 s), yet a plain request to the same server (GET
 * /healthz) is answered, and a second try of the socket fails too → the way
 * there blocks upgrades (a proxy): fetch, until the page is reloaded. When
 * the plain request gets no answer either, the server is down, not the
 * socket: nothing is decided, and the page tries again with backoff.
 */
export class PageLink {
  /** Every method, over whichever way the link decided (calls wait for the decision). */
  readonly api: ParleyClient;
  /** Always fetch: Login and the sign-in probes, which run before the page needs a socket. */
  readonly http: ParleyClient;
  /** Called once, when the way is decided. */
  onMode: (mode: LinkMode) => void = () => undefined;
  private mode: LinkMode | undefined;
  private deciding: Promise<LinkMode> | undefined;
  private readonly socket;
  private readonly fetchTransport: Transport;

  constructor(
    interceptors: Interceptor[],
    private readonly baseUrl: string = location.origin,
  ) {
    this.fetchTransport = createConnectTransport({ baseUrl, interceptors });
    this.socket = createWebSocketTransport({ baseUrl, interceptors, WebSocket: PatientWebSocket });
    const picked = switchTransport(async () =>
      (await this.decide()) === "websocket" ? this.socket : this.fetchTransport,
    );
    this.api = createParleyClientWith({ transport: picked, backoff: BACKOFF });
    this.http = createParleyClientWith({ transport: this.fetchTransport, backoff: BACKOFF });
  }

  /** The way, once decided; undefined before. */
  get current(): LinkMode | undefined {
    return this.mode;
  }

  /** Decide the way (once; later calls get the same answer). */
  decide(): Promise<LinkMode> {
    if (this.mode !== undefined) return Promise.resolve(this.mode);
    this.deciding ??= this.probe().then((mode) => {
      this.mode = mode;
      this.onMode(mode);
      return mode;
    });
    return this.deciding;
  }

  private async probe(): Promise<LinkMode> {
    for (let attempt = 0; ; attempt++) {
      if (await this.socketOpens()) return "websocket";
      if (await serverAnswers(this.baseUrl))
        return (await this.socketOpens()) ? "websocket" : "http";
      await sleep(backoffDelay(attempt, BACKOFF), undefined);
    }
  }

  private async socketOpens(): Promise<boolean> {
    try {
      await this.socket.connect();
      return true;
    } catch {
      return false;
    }
  }
}

/** Whether the server answers a plain HTTP request (any status: it is there). */
async function serverAnswers(baseUrl: string): Promise<boolean> {
  try {
    const answer = await fetch(new URL("/healthz", baseUrl), { cache: "no-store" });
    await answer.arrayBuffer(); // read it all, so the request is over
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser's WebSocket, given up on when it has not opened within
 * OPEN_TIMEOUT_MS (a proxy that holds the upgrade without answering): it
 * closes, and its opening fails as a refused one does.
 */
const PatientWebSocket = class extends WebSocket {
  constructor(url: string, protocols: string[]) {
    super(url, protocols);
    const timer = setTimeout(() => {
      if (this.readyState === WebSocket.CONNECTING) this.close();
    }, OPEN_TIMEOUT_MS);
    this.addEventListener("open", () => clearTimeout(timer));
    this.addEventListener("close", () => clearTimeout(timer));
  }
} as unknown as WebSocketConstructor;
