import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { type GuestKeyStore, localStorageGuestKeys } from "./guest-keys.js";
import type { ParleyClientCoreOptions } from "./parley-client.js";
import { clientWithTokens, type ParleyTokenClient, type TokenOptions } from "./with-tokens.js";
import { createWebSocketTransport } from "./ws-transport.js";

/** The wire protocols a browser client can speak over fetch. */
export type WebProtocol = "connect" | "grpcweb";

/** Options of a browser Parley client. */
export interface ParleyWebClientOptions
  extends Omit<ParleyClientCoreOptions, "transport">,
    TokenOptions {
  /**
   * The server, for example http://localhost:8080. A page from another
   * origin needs that origin in the server's --cors-origin.
   */
  baseUrl: string;
  /** Default connect. */
  protocol?: WebProtocol;
  /**
   * "websocket": every call, Listener, Echo and Chat included, over one
   * shared WebSocket to `${baseUrl}/ws` (docs/protocols.md#websocket);
   * `protocol` then does not apply. Default "http" (fetch).
   */
  transport?: "http" | "websocket";
  /** More interceptors, after the token's: they see every call. */
  interceptors?: Interceptor[];
  /**
   * Where a guest's keys are kept: the page's localStorage by default (one
   * item per server and name), a store of your own, or false to keep none.
   */
  guestKeys?: GuestKeyStore | false;
}

/** A browser Parley client; `guest` holds its guest tokens when it logs in as one. */
export type ParleyWebClient = ParleyTokenClient;

/**
 * A Parley client for the browser (and any runtime with fetch): connect-web's
 * transport, HTTP/1.1 or, over TLS, whatever the browser negotiates. Bidi
 * methods (Echo, Chat) and Listener need a full-duplex stream fetch does not
 * offer: use `transport: "websocket"` for them. With `token` or `guest`,
 * every call carries the token.
 */
export function createParleyClient(options: ParleyWebClientOptions): ParleyWebClient {
  const baseUrl = options.baseUrl;
  const keys = options.guestKeys;
  const guestKeyStore = keys === false ? undefined : (keys ?? localStorageGuestKeys());
  return clientWithTokens({ ...options, guestKeyStore }, (tokens) => {
    const interceptors = [...tokens, ...(options.interceptors ?? [])];
    if (options.transport === "websocket") {
      return createWebSocketTransport({ baseUrl, interceptors, WebSocket: globalThis.WebSocket });
    }
    return options.protocol === "grpcweb"
      ? createGrpcWebTransport({ baseUrl, interceptors })
      : createConnectTransport({ baseUrl, interceptors });
  });
}
