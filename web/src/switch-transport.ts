import type { Transport } from "@connectrpc/connect";

/**
 * A Transport that hands each call to the transport `pick` resolves to when
 * the call starts: the page's one WebSocket, or fetch where the socket
 * cannot open (see page-link.ts). A call never moves once started.
 */
export function switchTransport(pick: () => Promise<Transport>): Transport {
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const transport = await pick();
      return transport.unary(method, signal, timeoutMs, header, input, contextValues);
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const transport = await pick();
      return transport.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}
