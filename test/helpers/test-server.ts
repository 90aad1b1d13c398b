import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import type { Config } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import {
  type ParleyServer,
  type ServerTuning,
  startParley,
} from "../../src/server/parley-server.js";

/** A config for tests: port 0, memory store, fast heartbeats off by default. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: "127.0.0.1",
    store: "memory:",
    retention: 10_000,
    heartbeatMs: 15_000,
    queueEvents: 1000,
    queueBytes: 1024 * 1024,
    tlsCert: undefined,
    tlsKey: undefined,
    logLevel: "silent",
    shutdownMs: 5000,
    corsOrigins: [],
    webDir: "",
    ...overrides,
  };
}

/** Start a real server in this process on a free port. */
export async function startTestServer(
  overrides: Partial<Config> = {},
  tuning: ServerTuning = {},
): Promise<ParleyServer> {
  const config = testConfig(overrides);
  return startParley(config, createLogger(config.logLevel), tuning);
}

/** The transports a user can pick, by protocol and HTTP version. */
export type TransportName = "connect-h1" | "connect-h2" | "grpc-h2" | "grpcweb-h1" | "grpcweb-h2";

export const ALL_TRANSPORTS: readonly TransportName[] = [
  "connect-h1",
  "connect-h2",
  "grpc-h2",
  "grpcweb-h1",
  "grpcweb-h2",
];

/** A connect-node transport of the given kind for a server URL. */
export function transportFor(name: TransportName, baseUrl: string): Transport {
  switch (name) {
    case "connect-h1":
      return createConnectTransport({ baseUrl, httpVersion: "1.1" });
    case "connect-h2":
      return createConnectTransport({ baseUrl, httpVersion: "2" });
    case "grpc-h2":
      return createGrpcTransport({ baseUrl });
    case "grpcweb-h1":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
    case "grpcweb-h2":
      return createGrpcWebTransport({ baseUrl, httpVersion: "2" });
  }
}

/** A typed ChatService client. */
export function chatClient(baseUrl: string, name: TransportName = "connect-h2") {
  return createClient(ChatService, transportFor(name, baseUrl));
}
