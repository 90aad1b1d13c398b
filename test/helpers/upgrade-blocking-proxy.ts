import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** An HTTP proxy that passes plain requests and refuses every WebSocket upgrade. */
export interface UpgradeBlockingProxy {
  /** `http://localhost:PORT`: pages opened here reach the server only over plain HTTP. */
  readonly url: string;
  /** Upgrade requests refused so far. */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * What a corporate proxy that does not speak WebSocket does: every request
 * is forwarded to `target` as it is (streamed both ways, so a Subscribe
 * streams through), every `Upgrade` is answered 403 and closed.
 */
export async function startUpgradeBlockingProxy(target: string): Promise<UpgradeBlockingProxy> {
  const to = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  let refused = 0;
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on("upgrade", (_req, socket) => {
    refused++;
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused;
    },
    close() {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
