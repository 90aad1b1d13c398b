import { readFileSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { sniffPreface } from "./sniff-preface.js";

/** Where a connection goes once its protocol is known. */
export type HandOver = (socket: net.Socket, isH2: boolean) => void;

/** How to tell a connection's protocol. */
export interface DispatchOptions {
  tls?: { certFile: string; keyFile: string } | undefined;
  sniffTimeoutMs: number;
}

/**
 * The listening server that accepts connections and tells their protocol.
 * Cleartext: each connection is sniffed for the HTTP/2 preface (h2c with
 * prior knowledge, what gRPC clients and `buf curl` send). TLS: ALPN offers
 * h2 and http/1.1, and a client that negotiates none speaks HTTP/1.1.
 */
export function dispatchingServer(
  options: DispatchOptions,
  handOver: HandOver,
): { listener: net.Server; scheme: "http" | "https" } {
  if (options.tls) {
    const listener = tls.createServer(
      {
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        ALPNProtocols: ["h2", "http/1.1"],
        handshakeTimeout: options.sniffTimeoutMs,
      },
      (socket) => handOver(socket, socket.alpnProtocol === "h2"),
    );
    // A failed or timed-out handshake (handshakeTimeout) is only reported
    // here; Node leaves the connection open unless it is destroyed.
    listener.on("tlsClientError", (_error: Error, socket: tls.TLSSocket) => socket.destroy());
    return { listener, scheme: "https" };
  }
  const listener = net.createServer((socket) =>
    sniffPreface(socket, options.sniffTimeoutMs, (isH2) => handOver(socket, isH2)),
  );
  return { listener, scheme: "http" };
}
