import type { AddressInfo } from "node:net";
import * as net from "node:net";

/**
 * A loopback TCP proxy that can be cut and restored: a network partition
 * between one process and a server (e.g. one Parley node and its Redis).
 */
export interface CuttableProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Reset every open connection and refuse new ones until restore(). */
  cut(): void;
  /** Forward new connections again. */
  restore(): void;
  /** Reset every connection and stop listening. */
  close(): Promise<void>;
}

/** Proxy 127.0.0.1:<new port> to `targetPort` on 127.0.0.1. */
export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on("error", drop);
      s.on("close", drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const resetAll = () => {
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      cut = true;
      resetAll();
    },
    restore() {
      cut = false;
    },
    close() {
      resetAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
