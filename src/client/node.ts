import { createRequire } from "node:module";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { fileGuestKeys } from "./guest-key-file.js";
import type { GuestKeyStore } from "./guest-keys.js";
import type { ParleyClientCoreOptions } from "./parley-client.js";
import { clientWithTokens, type ParleyTokenClient, type TokenOptions } from "./with-tokens.js";
import type { WebSocketConstructor } from "./ws-connection.js";
import { createWebSocketTransport } from "./ws-transport.js";

/** The wire protocols a Node client can speak. */
export type Protocol = "connect" | "grpc" | "grpcweb";

/** Options of a Node Parley client. */
export interface ParleyNodeClientOptions
  extends Omit<ParleyClientCoreOptions, "transport">,
    TokenOptions {
  /** For example http://localhost:8080. */
  baseUrl: string;
  /** Default connect. */
  protocol?: Protocol;
  /** Default "2" (bidi streams need it); gRPC is always HTTP/2. */
  httpVersion?: "1.1" | "2";
  /**
   * Where a guest's keys are kept: a file (default
   * `$XDG_STATE_HOME/parley/guest-keys.json`, i.e.
   * `~/.local/state/parley/guest-keys.json`, mode 0600, shared with the
   * `parley` CLI), another file's path, a store of your own, or false to keep
   * none (the name is then the client's only while its token lives).
   */
  guestKeys?: string | GuestKeyStore | false;
  /**
   * "websocket": every call over one shared WebSocket to `${baseUrl}/ws`
   * (docs/protocols.md#websocket); `protocol` and `httpVersion` then do not
   * apply. Default "http".
   */
  transport?: "http" | "websocket";
}

/** A Node Parley client; `guest` holds its guest tokens when it logs in as one. */
export type ParleyNodeClient = ParleyTokenClient;

/**
 * A Parley client for Node. HTTP/2 connections are pinged while streams are
 * open, and the WebSocket always, so a server that vanished without closing
 * is noticed and the subscription reconnects on a fresh connection. With `token` or `guest`,
 * every call carries the token (tokenInterceptor), on every protocol.
 */
export function createParleyClient(options: ParleyNodeClientOptions): ParleyNodeClient {
  const protocol = options.protocol ?? "connect";
  const httpVersion = protocol === "grpc" ? "2" : (options.httpVersion ?? "2");
  const silence = options.silenceTimeoutMs ?? 45_000;
  const h2 = {
    pingIntervalMs: Math.max(1000, silence / 3),
    pingTimeoutMs: Math.max(1000, silence / 3),
  };
  const baseUrl = options.baseUrl;
  const keys = options.guestKeys;
  const guestKeyStore =
    keys === false
      ? undefined
      : typeof keys === "object"
        ? keys
        : options.guest === undefined
          ? undefined
          : fileGuestKeys(keys);
  return clientWithTokens({ ...options, guestKeyStore }, (interceptors) =>
    options.transport === "websocket"
      ? createWebSocketTransport({
          baseUrl,
          interceptors,
          WebSocket: nodeWebSocket(),
          pingIntervalMs: h2.pingIntervalMs,
        })
      : protocol === "grpc"
        ? createGrpcTransport({ baseUrl, interceptors, ...h2 })
        : protocol === "grpcweb"
          ? httpVersion === "2"
            ? createGrpcWebTransport({ baseUrl, httpVersion, interceptors, ...h2 })
            : createGrpcWebTransport({ baseUrl, httpVersion, interceptors })
          : httpVersion === "2"
            ? createConnectTransport({ baseUrl, httpVersion, interceptors, ...h2 })
            : createConnectTransport({ baseUrl, httpVersion, interceptors }),
  );
}

/**
 * The `ws` package's WebSocket, loaded only when a client picks the
 * WebSocket transport: a client on the HTTP transports (every `parley`
 * command) does not pay for loading it.
 */
function nodeWebSocket(): WebSocketConstructor {
  const load = createRequire(import.meta.url);
  return (load("ws") as typeof import("ws")).WebSocket as unknown as WebSocketConstructor;
}
