import { STATUS_CODES } from "node:http";
import type * as net from "node:net";

/**
 * Answer an upgrade request the endpoint will not take with an HTTP status
 * and a plain-text reason, and close the connection: the handshake never
 * happened, so there is no WebSocket to close with a code. Browsers show
 * scripts only that the connection failed; the reason is for other clients
 * and people reading the traffic.
 */
export function refuseUpgrade(
  socket: net.Socket,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const body = `${reason}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    "connection: close",
    "content-type: text/plain; charset=utf-8",
    "x-content-type-options: nosniff",
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}
