/** Every size and duration of a suite run, so that quick mode is the same code on smaller numbers. */
export interface Sizes {
  runs: number;
  warmupMs: number;
  measureMs: number;
  /** Wait after idle streams are open before reading the server's RSS. */
  settleMs: number;
  fanOut: {
    subscribers: number;
    connections: number;
    window: number;
    maxLag: number;
    /** Message rate of the latency runs every target gets alike (below each one's maximum). */
    sameRate: number;
  };
  manyRooms: { rooms: number; perRoom: number; connections: number; window: number };
  echo: { streams: number; depth: number };
  idle: {
    /** Connections of the reference point, and of the shared-connection measure. */
    connections: number;
    streamsPerConnection: number;
    /** Connections of the one-stream-each measure. */
    manyConnections: number;
  };
  append: { senders: number; connections: number; rooms: number };
  /**
   * The fan-out latency curve: offered rates as fractions of each target's
   * own maximum, and the measured window of each point (shorter than
   * measureMs, so the whole curve stays within a few minutes).
   */
  curve: { fractions: number[]; measureMs: number };
  /**
   * The scale-out rows: the fan-out load (sizes.fanOut) at this one offered
   * message rate on every setup (1 or 2 nodes, SQLite, memory or Redis), low
   * enough that each keeps up, so latency and CPU per message compare.
   */
  scaleOut: { rate: number };
  /** Size of every message text, in characters. */
  textBytes: number;
}

/** The full suite, as the issue specifies it. */
export const FULL: Sizes = {
  runs: 3,
  warmupMs: 1000,
  measureMs: 5000,
  settleMs: 1500,
  fanOut: { subscribers: 1000, connections: 50, window: 64, maxLag: 256, sameRate: 30 },
  manyRooms: { rooms: 1000, perRoom: 10, connections: 100, window: 64 },
  echo: { streams: 100, depth: 2 },
  idle: { connections: 100, streamsPerConnection: 100, manyConnections: 5000 },
  append: { senders: 64, connections: 4, rooms: 8 },
  curve: { fractions: [0.1, 0.25, 0.5, 0.75], measureMs: 3000 },
  scaleOut: { rate: 100 },
  textBytes: 100,
};

/** A smoke run: every scenario and target end to end in seconds. */
export const QUICK: Sizes = {
  runs: 1,
  warmupMs: 150,
  measureMs: 350,
  settleMs: 300,
  fanOut: { subscribers: 40, connections: 4, window: 16, maxLag: 64, sameRate: 20 },
  manyRooms: { rooms: 10, perRoom: 3, connections: 4, window: 16 },
  echo: { streams: 10, depth: 2 },
  idle: { connections: 10, streamsPerConnection: 50, manyConnections: 200 },
  append: { senders: 8, connections: 2, rooms: 2 },
  curve: { fractions: [0.1, 0.25, 0.5, 0.75], measureMs: 300 },
  scaleOut: { rate: 20 },
  textBytes: 100,
};
