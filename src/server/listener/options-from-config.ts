import type { Config } from "../../config.js";
import type { ListenerLimits } from "./types.js";

/** The listener limits a Config sets, to spread into listenOnePort's options. */
export function listenerLimits(config: Config): ListenerLimits {
  return {
    sniffTimeoutMs: config.sniffTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    requestIdleMs: config.requestIdleMs,
    idleConnectionMs: config.idleConnectionMs,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
    maxConnections: config.maxConnections,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    maxResetsPerAddress: config.maxResetsPerAddress,
  };
}
