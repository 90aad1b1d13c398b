import { parseArgs } from "node:util";

/** What `npm run soak` was asked to do. */
export interface SoakOptions {
  /** How long the load and the abuses run, in seconds. */
  seconds: number;
  /** Normal subscribers, spread evenly over the rooms. */
  subscribers: number;
  /** Normal senders, one per room. */
  senders: number;
  /** Messages per second each normal sender sends (each awaits its ack). */
  rate: number;
}

const USAGE = `usage: npm run soak -- [--seconds N] [--subscribers N] [--senders N] [--rate N]

Starts its own Parley (the tsc build, SQLite in a temporary folder, loopback
only) and runs issue 11's abuses at once, every listener cap included (streams
per connection, connections per address and in all, the last in runs of 20 s
or more), while normal subscribers and senders run; prints their p99 delivery
latency, gaps, duplicates, message counts, the server's RSS and each abuse's
counts. Exits 1 if a normal client saw a gap,
a duplicate or a message it was not given.

  --seconds N      how long the load runs (default 60, 1-3600)
  --subscribers N  normal subscribers (default 100)
  --senders N      normal senders, one room each (default 10)
  --rate N         messages per second per sender (default 20)`;

function integer(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(
      `--${flag}: must be a whole number from 1 to ${max} (got ${JSON.stringify(value)})\n\n${USAGE}`,
    );
  return n;
}

/** Parse the command line; throws with the usage on a bad flag, prints it for --help. */
export function soakOptions(argv: string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string" },
      subscribers: { type: "string" },
      senders: { type: "string" },
      rate: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const senders = integer("senders", values.senders, 10, 100);
  const subscribers = integer("subscribers", values.subscribers, 100, 10_000);
  if (subscribers < senders)
    throw new Error(
      `--subscribers: must be at least --senders (${senders}), one room each\n\n${USAGE}`,
    );
  return {
    seconds: integer("seconds", values.seconds, 60, 3600),
    subscribers,
    senders,
    rate: integer("rate", values.rate, 20, 1000),
  };
}
