import type { AddressInfo } from "node:net";
import * as net from "node:net";

/** A loopback TCP proxy whose connections can be frozen: a peer that vanished without closing. */
export interface FreezableProxy {
  readonly url: string;
  /** Stop forwarding in both directions, keeping every socket open. */
  freeze(): void;
  close(): Promise<void>;
}

/** Proxy 127.0.0.1:<new port> to the given port on 127.0.0.1. */
export async function startFreezableProxy(targetPort: number): Promise<FreezableProxy> {
  const pairs: [net.Socket, net.Socket][] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
