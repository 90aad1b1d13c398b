import type { HistogramPairs } from "./histogram.js";

/**
 * How a load generator talks to the server under test: gRPC over h2c, the
 * raw `ws` baseline's paths, or Parley's WebSocket protocol (parley.v1 at /ws).
 */
export type Wire = "grpc" | "ws" | "parley-ws";

interface JobBase {
  wire: Wire;
  /** Base URL (http://127.0.0.1:PORT). */
  url: string;
  /** Sent as `authorization: Bearer` on every call (a server with --auth jwt). */
  token?: string | undefined;
}

/** Subscribers spread over rooms and connections; counts deliveries (and their latency). */
export interface SubscribeJob extends JobBase {
  kind: "subscribe";
  rooms: string[];
  /** Streams in all; stream i follows rooms[i % rooms.length] on connection i % connections. */
  streams: number;
  /** HTTP/2 connections (gRPC); WebSocket (both wires) has one socket per stream. */
  connections: number;
  latency: boolean;
}

/** One publisher: as fast as the server accepts (window and lag bound) or at a fixed rate. */
export interface PublishJob extends JobBase {
  kind: "publish";
  /** Messages go round-robin to these rooms. */
  rooms: string[];
  textBytes: number;
  /** Sends awaiting their acknowledgement, at most. */
  window: number;
  /** Messages per second; null sends as fast as the window and lag bound allow. */
  rate: number | null;
  /**
   * Follow rooms[0] with a probe subscriber and never run more than this many
   * messages ahead of it: "as fast as accepted" means as fast as delivered,
   * not as fast as queues can grow. Null: no probe.
   */
  maxLag: number | null;
}

/** Concurrent Echo streams on one connection, each with `depth` requests in flight. */
export interface EchoJob extends JobBase {
  kind: "echo";
  streams: number;
  depth: number;
  textBytes: number;
}

/** Idle subscriptions held open: `connections` x `streamsPerConnection`. */
export interface IdleJob extends JobBase {
  kind: "idle";
  connections: number;
  streamsPerConnection: number;
  /** Streams are spread over this many rooms. */
  rooms: number;
  /** On "start", open this many more streams on each connection. */
  growBy: number;
}

/** Concurrent unary Sends, each sender awaiting its acknowledgement before the next. */
export interface SendJob extends JobBase {
  kind: "send";
  senders: number;
  connections: number;
  rooms: string[];
  textBytes: number;
}

/** What an agent is asked to do. */
export type Job = SubscribeJob | PublishJob | EchoJob | IdleJob | SendJob;

/** What an agent measured over the window between "mark" and "stop". */
export interface AgentResult {
  /** Deliveries, acknowledgements or round trips in the window. */
  count: number;
  /** Successes since the job started, window or not. */
  total: number;
  /** Calls or streams that ended in an error since the job started, by code. */
  errors: Record<string, number>;
  /** CPU time the agent used in the window (user + system). */
  cpuMs: number;
  elapsedMs: number;
  /** Latencies recorded in the window. */
  latency: HistogramPairs;
  /** p99 of the agent's own event-loop delay over the window (ms; 0 when unmeasured). */
  loopDelayP99Ms: number;
}

/** Messages from the parent. */
export type ToAgent =
  | { type: "setup"; job: Job; maxSeconds: number }
  | { type: "start" | "mark" | "stop" | "close" };

/** Messages to the parent. */
export type FromAgent =
  | { type: "ready" }
  | { type: "started" }
  | { type: "result"; result: AgentResult }
  | { type: "closed"; total: number }
  | { type: "failed"; error: string };
