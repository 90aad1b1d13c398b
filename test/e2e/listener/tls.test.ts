import * as tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { opensslTestsCanRun, type SelfSigned, selfSignedCert } from "../../helpers/self-signed.js";
import { startTestServer } from "../../helpers/test-server.js";

// The certificate is made with the openssl CLI (test/helpers/self-signed.ts).
const canRun = opensslTestsCanRun("tls.test.ts");

describe.runIf(canRun)("TLS on the same port (ALPN h2 and http/1.1)", () => {
  let certificate: SelfSigned | undefined;
  let server: ParleyServer;
  let ca: Buffer;
  beforeAll(async () => {
    certificate = selfSignedCert();
    ca = certificate.ca;
    server = await startTestServer({ tlsCert: certificate.certFile, tlsKey: certificate.keyFile });
  });
  afterAll(async () => {
    await server?.stop();
    certificate?.remove();
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
