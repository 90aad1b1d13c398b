import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnePort, type OnePortServer } from "../../../src/server/one-port.js";
import { closedAfter, connectRaw } from "../../helpers/raw-socket.js";
import { opensslTestsCanRun, type SelfSigned, selfSignedCert } from "../../helpers/self-signed.js";

// The certificate is made with the openssl CLI (test/helpers/self-signed.ts).
const canRun = opensslTestsCanRun("listener-tls.test.ts");

describe.runIf(canRun)("the listener's limits over TLS", () => {
  let certificate: SelfSigned | undefined;
  let server: OnePortServer;
  let ca: Buffer;
  beforeAll(async () => {
    certificate = selfSignedCert();
    ca = certificate.ca;
    server = await listenOnePort((_req, res) => res.end("ok"), {
      port: 0,
      host: "127.0.0.1",
      pingIntervalMs: 60_000,
      tls: { certFile: certificate.certFile, keyFile: certificate.keyFile },
      sniffTimeoutMs: 300,
      maxConnectionsPerAddress: 1,
    });
  });
  afterAll(() => {
    server?.stopAccepting();
    server?.destroyAll();
    certificate?.remove();
  });

  /** A TLS connection with an HTTP/1.1 request: what comes back before it closes. */
  function http1OverTls(): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect(
        {
          host: "127.0.0.1",
          port: server.port,
          ca,
          servername: "localhost",
          ALPNProtocols: ["http/1.1"],
        },
        () => socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      );
      let answer = "";
      socket.on("data", (d: Buffer) => {
        answer += d.toString();
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(answer));
    });
  }

  it("closes a connection that never starts its handshake once the sniff timeout passes", async () => {
    const silent = await connectRaw(server.port);
    const ms = await closedAfter(silent);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect((await http1OverTls()).split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
  });

  it("refuses a connection over the per-address cap after the handshake, in its protocol", async () => {
    const held = await connectRaw(server.port);
    held.on("error", () => {});
    while (server.openConnections < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const answer = await http1OverTls();
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 429 Too Many Requests");
    expect(
      answer.endsWith(
        "\r\n\r\ntoo many connections from 127.0.0.1 (limit 1, --max-connections-per-address)\n",
      ),
    ).toBe(true);
    held.destroy();
  });
});
