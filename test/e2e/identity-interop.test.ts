import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_DEFAULTS } from "../../src/identity/auth-config.js";
import type { ParleyServer } from "../../src/server/parley-server.js";
import { bufCurl } from "../helpers/buf-curl.js";
import { startTestServer } from "../helpers/test-server.js";
import { hsToken, secretFile } from "../helpers/tokens.js";

// Tokens from other peers: `buf curl -H 'authorization: Bearer …'` and a
// @grpc/grpc-js client with call credentials (which grpc-js sends only over
// TLS, so the server here has a certificate made with openssl).

const SECRET = "a shared secret of more than thirty-two bytes, for tests";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const canRun = hasOpenssl() || process.env.CI === "true";
if (!canRun) console.warn("identity-interop.test.ts skipped: the openssl command is not installed");

describe.runIf(canRun)("tokens from buf curl and grpc-js", () => {
  let dir: string;
  let server: ParleyServer;
  let ca: Buffer;
  let token: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-auth-tls-"));
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
    server = await startTestServer({
      tlsCert: cert,
      tlsKey: key,
      auth: { ...AUTH_DEFAULTS, mode: "jwt", secretFile: secretFile(SECRET) },
    });
    token = await hsToken(SECRET, { sub: "ann" });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("buf curl -H 'authorization: Bearer …' is accepted; without it, unauthenticated", async () => {
    const args = (...extra: string[]) => [
      "--cacert",
      join(dir, "cert.pem"),
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
      includeDirs: [fileURLToPath(new URL("../../proto", import.meta.url))],
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
