import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { createParleyClientWith, type ParleyClient } from "../../src/client/parley-client.js";

/**
 * The Parley client the app uses: connect-web over fetch (HTTP/1.1 or TLS
 * h2, whatever the page was loaded with) to the server that served the page,
 * with the shared client library's resume and retry logic on top.
 * `interceptors` see every call (the page's carries the sign-in token).
 */
export function createApi(
  interceptors: Interceptor[] = [],
  baseUrl: string = location.origin,
): ParleyClient {
  return createParleyClientWith({
    transport: createConnectTransport({ baseUrl, interceptors }),
    // A person is waiting: come back quickly, and never wait more than 5 s between tries.
    backoff: { initialDelayMs: 250, maxDelayMs: 5000 },
  });
}

/**
 * A fresh idempotency key. crypto.randomUUID exists only in secure contexts
 * (https or localhost); getRandomValues exists everywhere, so a page opened
 * over plain http on a LAN address can still send.
 */
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
