import type * as net from "node:net";
import { refusals } from "../../metrics/refusal-metrics.js";

/** Connection limits; undefined: no limit. */
export interface ConnectionCapsOptions {
  maxConnections?: number | undefined;
  maxConnectionsPerAddress?: number | undefined;
}

/** Why a connection is refused: what to tell its client. */
export interface Refusal {
  /** Per address (the client's own doing) or the server's total. */
  kind: "address" | "total";
  message: string;
}

/**
 * Count open connections in total and per client address, and decide for
 * each new one whether it is admitted. A refused connection is not counted:
 * it is answered with the refusal and closed.
 */
export function connectionCaps(options: ConnectionCapsOptions) {
  const perAddress = new Map<string, number>();
  let total = 0;
  // One listener for every socket (`this` is the socket; its address is the
  // one Node cached at accept): a closure per connection would stay for the
  // life of every idle connection.
  function release(this: net.Socket) {
    total--;
    const address = clientAddress(this);
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left === 0) perAddress.delete(address);
    else perAddress.set(address, left);
  }
  return {
    /** Admit `socket` (counted until it closes), or say why not. */
    admit(socket: net.Socket): Refusal | undefined {
      const address = clientAddress(socket);
      const fromAddress = perAddress.get(address) ?? 0;
      if (options.maxConnections !== undefined && total >= options.maxConnections) {
        refusals.maxConnections.value++;
        return {
          kind: "total",
          message: `the server is at its connection limit (${options.maxConnections}, --max-connections); try again later`,
        };
      }
      const perAddressCap = options.maxConnectionsPerAddress;
      if (perAddressCap !== undefined && fromAddress >= perAddressCap) {
        refusals.maxConnectionsPerAddress.value++;
        return {
          kind: "address",
          message: `too many connections from ${address} (limit ${perAddressCap}, --max-connections-per-address)`,
        };
      }
      total++;
      perAddress.set(address, fromAddress + 1);
      socket.once("close", release);
      return undefined;
    },
  };
}

/** The client's address, an IPv4-mapped IPv6 address as plain IPv4. */
export function clientAddress(socket: net.Socket): string {
  const address = socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
