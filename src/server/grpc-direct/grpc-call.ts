import type * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { unwatchShutdown, watchShutdown } from "../shutdown-watch.js";
import { errorTrailers, OK_TRAILERS } from "./grpc-status.js";

/** The longest delay setTimeout accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a call's handler needs to know when it starts. */
export interface CallStart {
  /** The request's content type, echoed in the response (application/grpc or +proto). */
  contentType: string;
  /** From grpc-timeout; undefined for no deadline. */
  timeoutMs: number | undefined;
  /** The server's shutdown signal; its reason ends the call. */
  shutdownSignal: AbortSignal;
}

/**
 * The response side of one gRPC call answered directly on its HTTP/2 stream:
 * headers go out with the first message, trailers carry the status, and an
 * error before any message is a trailers-only response.
 *
 * `signal` aborts when the client goes away (CANCELED), the deadline passes
 * (DEADLINE_EXCEEDED) or the server shuts down (its shutdown reason); the
 * handler's reads and waits take it, and whatever they throw is passed back
 * to finish().
 */
export class GrpcCall {
  private readonly controller = new AbortController();
  private headersSent = false;
  private finished = false;
  private trailers: Record<string, string> = OK_TRAILERS;
  private readonly deadline: NodeJS.Timeout | undefined;
  private readonly onShutdown: (reason: unknown) => void;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    private readonly start: CallStart,
  ) {
    this.onShutdown = (reason) => this.abort(reason);
    watchShutdown(start.shutdownSignal, this.onShutdown);
    // Longer than a timer can wait (about 24.8 days) is as good as none; Node
    // would otherwise fire it at once.
    if (start.timeoutMs !== undefined && start.timeoutMs <= MAX_TIMER_MS) {
      this.deadline = setTimeout(
        () =>
          this.abort(
            new ConnectError(
              `the call's deadline of ${start.timeoutMs} ms passed`,
              Code.DeadlineExceeded,
            ),
          ),
        start.timeoutMs,
      );
    }
    stream.once("close", () => {
      if (!this.finished) this.abort(new ConnectError("the client closed the call", Code.Canceled));
      this.release();
    });
    // A reset or a broken connection also reaches 'close'; no other listener is needed.
    stream.on("error", () => undefined);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once finish() ran: nothing more is written. */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Write one framed message. Returns false when the stream's buffer is full:
   * the caller waits for drained() before producing more.
   */
  send(frame: Buffer): boolean {
    if (this.finished || this.stream.destroyed) return true;
    this.sendHeaders();
    return this.stream.write(frame);
  }

  /** Resolves when the stream can take more, or the call ended. */
  drained(): Promise<void> {
    if (this.finished || this.stream.destroyed || !this.stream.writableNeedDrain) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off("drain", done);
        this.controller.signal.removeEventListener("abort", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.controller.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** End the call: OK without an error, otherwise the error's status. Later calls do nothing. */
  finish(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.release();
    if (this.stream.destroyed || this.stream.closed) return;
    if (error === undefined) {
      this.sendHeaders();
      this.stream.end();
      return;
    }
    // Whatever else the client sends is read and dropped, so the stream can end.
    this.stream.resume();
    const trailers = errorTrailers(error);
    if (this.headersSent) {
      this.trailers = trailers;
      this.stream.end();
    } else {
      this.headersSent = true;
      this.stream.respond(
        { ":status": 200, "content-type": this.start.contentType, ...trailers },
        { endStream: true },
      );
    }
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(
      { ":status": 200, "content-type": this.start.contentType },
      { waitForTrailers: true },
    );
    this.stream.once("wantTrailers", () => {
      // A stream reset at this point has nowhere to send them; sendTrailers would throw.
      if (!this.stream.destroyed) this.stream.sendTrailers(this.trailers);
    });
  }

  private abort(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private release(): void {
    clearTimeout(this.deadline);
    unwatchShutdown(this.start.shutdownSignal, this.onShutdown);
  }
}
