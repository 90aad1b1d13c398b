import type { AddressInfo } from "node:net";
import * as net from "node:net";

/**
 * One address in front of several servers, the way a TCP load balancer with
 * failover sits in front of Parley nodes (docs/scale-out.md): each new
 * connection goes to the first upstream that accepts it.
 */
export interface FailoverProxy {
  /** `http://127.0.0.1:PORT`: the one address clients use. */
  readonly url: string;
  /** The upstream port each accepted connection was forwarded to, in order (0: none took it). */
  readonly routed: readonly number[];
  /** Connections open right now, per upstream port. */
  open(port: number): number;
  /** Close every connection and stop listening. */
  close(): Promise<void>;
}

/**
 * Listen on a free loopback port and forward every connection, bytes
 * untouched (so Host and Origin stay the proxy's), to the first of
 * `upstreamPorts` on 127.0.0.1 that accepts it. An upstream that refuses is
 * skipped; when none accepts, the client's connection is reset. When either
 * side of a forwarded connection ends or fails, so does the other: a killed
 * node looks to the client like a dropped connection, as it would through a
 * real proxy.
 */
export async function startFailoverProxy(upstreamPorts: readonly number[]): Promise<FailoverProxy> {
  const routed: number[] = [];
  const live = new Set<[number, net.Socket, net.Socket]>();

  function connect(client: net.Socket, index: number): void {
    const port = upstreamPorts[index];
    if (port === undefined) {
      routed.push(0);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(port, "127.0.0.1");
    const failedFirst = () => connect(client, index + 1);
    upstream.once("error", failedFirst);
    upstream.once("connect", () => {
      upstream.off("error", failedFirst);
      routed.push(port);
      const entry: [number, net.Socket, net.Socket] = [port, client, upstream];
      live.add(entry);
      const drop = () => {
        live.delete(entry);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", drop);
      upstream.on("error", drop);
      client.on("close", drop);
      upstream.on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    // A client that leaves before an upstream is chosen must not crash the test.
    client.on("error", () => undefined);
    connect(client, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routed,
    open: (port) => [...live].filter(([p]) => p === port).length,
    close() {
      for (const [, client, upstream] of live) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
