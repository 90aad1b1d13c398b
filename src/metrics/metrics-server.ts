import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { collectProcessMetrics, registry } from "./registry.js";

/** The one path the metrics listener answers. */
export const METRICS_PATH = "/metrics";

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** The bound port. */
  readonly port: number;
  /** Where Prometheus scrapes, e.g. http://127.0.0.1:9464/metrics. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serve the registry in Prometheus' text format at GET /metrics on its own
 * listener, apart from the public port: what an operator's scraper reads is
 * never reachable by chat clients. Anything else is 404. Node's default
 * metrics start with it.
 */
export async function listenMetrics(port: number, host: string): Promise<MetricsServer> {
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== METRICS_PATH || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`metrics failed: ${String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    // Said apart from the public port's failures (start-failure.ts), which name --port.
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `the metrics listener could not bind ${host}:${port} (${error.code ?? error.message}); pick another --metrics-port, or 0 to turn metrics off`,
        ),
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    port: bound,
    url: `http://${urlHost}:${bound}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
