import { create } from "@bufbuild/protobuf";
import { type EchoRequest, EchoRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { backoffDelay, sleep } from "../../src/client/backoff.js";
import type { ParleyClient } from "../../src/client/parley-client.js";

/** How often the round trip is measured. */
const EVERY_MS = 5000;

/**
 * The connection's round-trip time, measured over one Echo stream on the
 * page's WebSocket: a ping goes out every few seconds, and the time until
 * its echo (matched by the stream's seq, 1, 2, …) comes back is reported.
 * A lost stream is opened again with backoff until stop().
 */
export class RttProbe {
  private readonly stopper = new AbortController();

  constructor(
    private readonly api: ParleyClient,
    private readonly onRtt: (ms: number | undefined) => void,
  ) {
    void this.run();
  }

  stop(): void {
    this.stopper.abort();
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        if (await this.measure(signal)) attempt = 0;
      } catch {
        // The socket went (a restart): no figure until a new stream measures one.
        this.onRtt(undefined);
      }
      try {
        await sleep(backoffDelay(attempt, { initialDelayMs: 500, maxDelayMs: 5000 }), signal);
      } catch {
        return;
      }
    }
  }

  /** One Echo stream, pinged until it ends; whether it measured anything. */
  private async measure(signal: AbortSignal): Promise<boolean> {
    const sentAt: number[] = [];
    async function* pings(): AsyncGenerator<EchoRequest> {
      while (!signal.aborted) {
        sentAt.push(performance.now());
        yield create(EchoRequestSchema, { text: `ping ${sentAt.length}` });
        try {
          await sleep(EVERY_MS, signal);
        } catch {
          return;
        }
      }
    }
    let measured = false;
    for await (const echo of this.api.rpc.echo(pings(), { signal })) {
      const at = sentAt[Number(echo.seq) - 1];
      if (at === undefined) continue;
      measured = true;
      this.onRtt(Math.round(performance.now() - at));
    }
    return measured;
  }
}
