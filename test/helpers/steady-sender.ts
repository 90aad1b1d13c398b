import type { ParleyClient } from "../../src/client/parley-client.js";

/** A client sending numbered messages to one room, one after another, until stopped. */
export interface SteadySender {
  /** Every acknowledged message (seq and text), in the order acknowledged. */
  readonly acked: readonly { seq: number; text: string }[];
  /** The send that failed for good, if one did (sending then stops). */
  readonly failure: string | undefined;
  /** Resolves once `count` messages are acknowledged; rejects if sending failed first. */
  untilAcked(count: number): Promise<void>;
  /** Stop after the send in flight; resolves when it has been acknowledged (or failed). */
  stop(): Promise<void>;
}

/**
 * Send `${prefix} 1`, `${prefix} 2`, … to `room` as `author` through
 * `client.send` (which retries with one idempotency key per message), waiting
 * `gapMs` between acknowledgements. A server that goes away holds the next
 * message in its retries until one is back.
 */
export function startSteadySender(
  client: ParleyClient,
  room: string,
  author: string,
  prefix: string,
  gapMs = 50,
): SteadySender {
  const acked: { seq: number; text: string }[] = [];
  let failure: string | undefined;
  let sending = true;
  const done = (async () => {
    for (let n = 1; sending; n++) {
      const text = `${prefix} ${n}`;
      try {
        const message = await client.send(room, author, text);
        acked.push({ seq: Number(message.seq), text });
      } catch (error) {
        failure = `${text}: ${String(error)}`;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  })();
  return {
    acked,
    get failure() {
      return failure;
    },
    async untilAcked(count) {
      while (acked.length < count) {
        if (failure !== undefined) throw new Error(`sending failed: ${failure}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      sending = false;
      await done;
    },
  };
}
