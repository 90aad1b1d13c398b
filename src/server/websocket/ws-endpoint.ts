import type * as http from "node:http";
import type * as net from "node:net";
import { WebSocketServer } from "ws";
import { peerOf } from "../../calls/call-info.js";
import type { MethodCore } from "../../calls/method-core.js";
import { refusals } from "../../metrics/refusal-metrics.js";
import { WS_PATH, WS_SUBPROTOCOL } from "../../wire/ws-frames.js";
import type { AdapterOptions } from "../edge/adapter-options.js";
import { watchShutdown } from "../edge/shutdown-watch.js";
import type { UpgradeTaker } from "../listener/index.js";
import { originAllowed } from "./ws-origin.js";
import { wsRoutes } from "./ws-route.js";
import { WsSession } from "./ws-session.js";
import { refuseUpgrade } from "./ws-upgrade-refusal.js";

/** The WebSocket endpoint's settings; the limits are server flags. */
export interface WsEndpointOptions extends AdapterOptions {
  readonly cores: readonly MethodCore[];
  readonly scheme: "http" | "https";
  /** Origins besides the page's own whose pages may open sockets (--cors-origin). */
  readonly corsOrigins: readonly string[];
  /** Ping every socket this often; one that has not answered by the next ping is closed. */
  readonly pingIntervalMs: number;
  /** --ws-max-calls. */
  readonly maxCallsPerSocket: number;
  /** --ws-max-sockets-per-address. */
  readonly maxSocketsPerAddress: number;
  /** --ws-max-buffer-bytes. */
  readonly maxBufferBytes: number;
  /** --ws-max-frame-bytes: a larger frame closes the socket with 1009. */
  readonly maxFrameBytes: number;
}

/** The endpoint: the listener's upgrade taker, and how many sockets are open. */
export interface WsEndpoint {
  readonly takeUpgrade: UpgradeTaker;
  readonly openSockets: number;
}

/**
 * WebSocket calls at `/ws` (subprotocol parley.v1, docs/protocols.md): the
 * `ws` library does the handshake and framing, WsSession the calls. Refused
 * before the handshake: a wrong subprotocol (400), an Origin that is neither
 * the page's own nor in --cors-origin (403), one socket too many from an
 * address (429), and any upgrade once the server shuts down (503). Upgrades
 * to other paths or protocols are declined and served as plain requests.
 */
export function websocketEndpoint(options: WsEndpointOptions): WsEndpoint {
  const context = {
    routes: wsRoutes(options.cores, options.readMaxBytes),
    services: [...new Set(options.cores.map((core) => core.method.parent))],
    policies: options.policies,
    maxTimeoutMs: options.maxTimeoutMs,
    maxCalls: options.maxCallsPerSocket,
    maxBufferBytes: options.maxBufferBytes,
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    // Our own pings, below, for every socket at once.
    autoPong: true,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  const sessions = new Set<WsSession>();
  const perAddress = new Map<string, number>();
  let stopping = false;
  const heartbeat = setInterval(() => {
    for (const session of sessions) {
      // No pong since the last ping: the peer vanished without closing.
      if (session.awaitingPong) session.socket.terminate();
      else {
        session.awaitingPong = true;
        session.socket.ping();
      }
    }
  }, options.pingIntervalMs);
  heartbeat.unref();
  watchShutdown(options.shutdownSignal, {
    abort(reason) {
      stopping = true;
      clearInterval(heartbeat);
      for (const session of sessions) session.shutdown(reason);
    },
  });

  const takeUpgrade: UpgradeTaker = (req, socket, head) => {
    if (!isOurs(req)) return false;
    const refused = refusal(req, socket);
    if (refused !== undefined) {
      refuseUpgrade(socket, refused.status, refused.reason);
      return true;
    }
    const address = addressOf(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new WsSession(ws, socket, context, peerOf(socket));
      sessions.add(session);
      perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      ws.once("close", () => {
        sessions.delete(session);
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left === 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    });
    return true;
  };

  const refusal = (req: http.IncomingMessage, socket: net.Socket) => {
    if (stopping) {
      return { status: 503, reason: "the server is shutting down; connect to another node" };
    }
    if (!originAllowed(req, options.scheme, options.corsOrigins)) {
      return {
        status: 403,
        reason: `origin ${JSON.stringify(req.headers.origin)} may not open a WebSocket here: only the page's own origin and --cors-origin origins may`,
      };
    }
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    if (!offered.includes(WS_SUBPROTOCOL)) {
      return {
        status: 400,
        reason: `a WebSocket at ${WS_PATH} must offer the subprotocol ${WS_SUBPROTOCOL} (Sec-WebSocket-Protocol)`,
      };
    }
    const address = addressOf(socket);
    const open = perAddress.get(address) ?? 0;
    if (open >= options.maxSocketsPerAddress) {
      refusals.wsMaxSocketsPerAddress.value++;
      return {
        status: 429,
        reason: `too many WebSockets from ${address} (limit ${options.maxSocketsPerAddress}, --ws-max-sockets-per-address); one socket carries many calls`,
      };
    }
    return undefined;
  };

  return {
    takeUpgrade,
    get openSockets() {
      return sessions.size;
    },
  };
}

/** A WebSocket handshake for our path; anything else is declined. */
function isOurs(req: http.IncomingMessage): boolean {
  if (req.headers.upgrade?.toLowerCase() !== "websocket") return false;
  const path = (req.url ?? "").split("?", 1)[0];
  return path === WS_PATH;
}

/** The client's address, an IPv4-mapped IPv6 address as plain IPv4. */
function addressOf(socket: net.Socket): string {
  const address = socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
