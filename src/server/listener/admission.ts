import type * as net from "node:net";
import {
  type ConnectionCapsOptions,
  clientAddress,
  connectionCaps,
  type Refusal,
} from "./connection-caps.js";
import { connectionRefuser } from "./refuse-connection.js";
import type { ResetBudget } from "./reset-budget.js";

/**
 * The connection caps at the door, and the cool-down of addresses that reset
 * too many streams (reset-budget.ts): each accepted connection is counted or
 * marked refused; once its protocol is known (after sniffing or the TLS
 * handshake), a refused one is answered with the reason and closed.
 */
export function admission(options: ConnectionCapsOptions, resets?: ResetBudget) {
  const caps = connectionCaps(options);
  const refuse = connectionRefuser();
  // Keyed by the peer's address and port, the same for a TLS socket and the
  // TCP socket under it (the listener sees the one, the hand-over the other).
  const refused = new Map<string, Refusal>();
  return {
    accepted(socket: net.Socket): void {
      const refusal = resets?.refusal(clientAddress(socket)) ?? caps.admit(socket);
      if (!refusal) return;
      const key = peer(socket);
      refused.set(key, refusal);
      socket.once("close", () => refused.delete(key));
    },
    /** Answers and closes `socket` if it was refused (true), else leaves it (false). */
    refusedHandOver(socket: net.Socket, isH2: boolean): boolean {
      const refusal = refused.get(peer(socket));
      if (!refusal) return false;
      refuse(socket, isH2, refusal);
      return true;
    },
  };
}

function peer(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
