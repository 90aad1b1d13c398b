import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_DEFAULTS } from "../../../src/identity/auth-config.js";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { bufCurl } from "../../helpers/buf-curl.js";
import { opensslTestsCanRun, type SelfSigned, selfSignedCert } from "../../helpers/self-signed.js";
import { startTestServer } from "../../helpers/test-server.js";
import { hsToken, secretFile } from "../../helpers/tokens.js";

// Tokens from other peers: `buf curl -H 'authorization: Bearer …'` and a
// @grpc/grpc-js client with call credentials (which grpc-js sends only over
// TLS, so the server here has a certificate made with openssl).

const SECRET = "a shared secret of more than thirty-two bytes, for tests";

const canRun = opensslTestsCanRun("identity-interop.test.ts");

describe.runIf(canRun)("tokens from buf curl and grpc-js", () => {
  let certificate: SelfSigned | undefined;
  let server: ParleyServer;
  let ca: Buffer;
  let token: string;
  beforeAll(async () => {
    certificate = selfSignedCert();
    ca = certificate.ca;
    server = await startTestServer({
      tlsCert: certificate.certFile,
      tlsKey: certificate.keyFile,
      auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET) },
    });
    token = await hsToken(SECRET, { sub: "ann" });
  });
  afterAll(async () => {
    await server?.stop();
    certificate?.remove();
  });

  it("buf curl -H 'authorization: Bearer …' is accepted; without it, unauthenticated", async () => {
    const args = (...extra: string[]) => [
      "--cacert",
      certificate?.certFile ?? "",
      ...extra,
      "-d",
      JSON.stringify({ room: "curl", text: "hi" }),
      `${server.url}/chat.v1.ChatService/Send`,
    ];
    const ok = await bufCurl(args("-H", `authorization: Bearer ${token}`));
    expect([ok.code, ok.stderr]).toEqual([0, ""]);
    expect(JSON.parse(ok.stdout).message).toMatchObject({ room: "curl", author: "ann", seq: "1" });
    const refused = await bufCurl(args());
    expect(refused.code).not.toBe(0);
    expect(JSON.parse(refused.stderr)).toEqual({
      code: "unauthenticated",
      message:
        'Send needs a token: send "authorization: Bearer <token>" (a guest gets one from Login, or `parley login`)',
    });
  });

  it("a grpc-js client with call credentials is accepted; without them, UNAUTHENTICATED", async () => {
    const definition = protoLoader.loadSync("chat/v1/chat.proto", {
      includeDirs: [fileURLToPath(new URL("../../../proto", import.meta.url))],
      longs: String,
    });
    type Callback = (
      error: grpc.ServiceError | null,
      res?: { message?: { author: string } },
    ) => void;
    type ChatClient = grpc.Client & { send(req: object, cb: Callback): void };
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      chat: {
        v1: {
          ChatService: new (address: string, credentials: grpc.ChannelCredentials) => ChatClient;
        };
      };
    };
    const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${token}`);
      callback(null, metadata);
    });
    const address = `localhost:${server.port}`;
    const send = (credentials: grpc.ChannelCredentials) =>
      new Promise<{ error: grpc.ServiceError | null; author?: string }>((resolve) => {
        const client = new proto.chat.v1.ChatService(address, credentials);
        client.send({ room: "grpc-js", text: "hi" }, (error, res) => {
          client.close();
          resolve({ error, author: res?.message?.author });
        });
      });
    const withToken = await send(
      grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(ca), callCredentials),
    );
    expect([withToken.error, withToken.author]).toEqual([null, "ann"]);
    const without = await send(grpc.credentials.createSsl(ca));
    expect(without.error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
