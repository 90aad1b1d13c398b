import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../src/server/parley-server.js";
import { startTestServer } from "../helpers/test-server.js";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// The certificate is made here with the openssl CLI. Where it is missing the
// suite says so and skips, except under CI=true, where .ci/run installs it.
const canRun = hasOpenssl() || process.env.CI === "true";
if (!canRun) console.warn("tls.test.ts skipped: the openssl command is not installed");

describe.runIf(canRun)("TLS on the same port (ALPN h2 and http/1.1)", () => {
  let dir: string;
  let server: ParleyServer;
  let ca: Buffer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-tls-"));
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
      ].concat(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]),
      { stdio: "ignore" },
    );
    ca = readFileSync(cert);
    server = await startTestServer({ tlsCert: cert, tlsKey: key });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("offers h2 first and http/1.1 to clients that only speak that", async () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    const negotiate = (protocols: string[]) =>
      new Promise<string | false>((resolve, reject) => {
        const socket = tls.connect(
          {
            host: "127.0.0.1",
            port: server.port,
            ca,
            servername: "localhost",
            ALPNProtocols: protocols,
          },
          () => {
            resolve(socket.alpnProtocol ?? false);
            socket.end();
          },
        );
        socket.once("error", reject);
      });
    expect(await negotiate(["h2", "http/1.1"])).toBe("h2");
    expect(await negotiate(["http/1.1"])).toBe("http/1.1");
  });

  it("serves Connect over TLS HTTP/1.1 and HTTP/2, and gRPC over TLS HTTP/2", async () => {
    const baseUrl = server.url;
    const h1 = createClient(
      ChatService,
      createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca } }),
    );
    const h2 = createClient(
      ChatService,
      createConnectTransport({ baseUrl, httpVersion: "2", nodeOptions: { ca } }),
    );
    const grpc = createClient(ChatService, createGrpcTransport({ baseUrl, nodeOptions: { ca } }));
    const seqs = [];
    for (const client of [h1, h2, grpc]) {
      const res = await client.send({ room: "secure", author: "ann", text: "over tls" });
      seqs.push(res.message?.seq);
    }
    expect(seqs).toEqual([1n, 2n, 3n]);
    const replies = [];
    async function* one() {
      yield { text: "tls echo" };
    }
    for await (const r of h2.echo(one())) replies.push([r.text, r.seq]);
    expect(replies).toEqual([["tls echo", 1n]]);
  });
});
