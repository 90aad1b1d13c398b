import { create, type DescMessage, isMessage, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { endStreamToJson } from "@connectrpc/connect/protocol-connect";
import { callError } from "../../calls/call-error.js";
import type { ReplySink } from "../../calls/method-core.js";
import { type CoreReply, Reply } from "../../calls/reply.js";
import {
  encodeWsCredit,
  encodeWsFrame,
  encodeWsJsonFrame,
  WS_FRAME_HEADER_BYTES,
  WS_REQUEST_WINDOW,
  WsFrameType,
  writeWsFrameHeader,
} from "../../wire/ws-frames.js";
import { CallSignal } from "../edge/call-signal.js";

/** What a call needs of the socket it runs on. */
export interface CallLink {
  /** Write one frame to the socket (nothing once it is closing). */
  write(frame: Uint8Array): void;
  /** The call is over: forget it. */
  forget(id: number): void;
}

/**
 * Takes one request item (a message's bytes, or null for half-close) once
 * the call has started; a promise asks for no further item until it settles,
 * a throw ends the call with that error.
 */
export type RequestReader = (item: Uint8Array | null) => void | Promise<void>;

/** Grant the client more request credit once this many messages were consumed. */
const GRANT_EVERY = WS_REQUEST_WINDOW / 2;

/**
 * One call on a WebSocket: its signal, its credits both ways, its request
 * messages (held until the call is admitted, then handed to the reader) and
 * its one END. `done` settles when the call has finished: resolved for OK,
 * rejected with the error the client was told (or CANCELED when it cancelled
 * or went away), as the call-policy chain expects.
 */
export class WsCall implements ReplySink<unknown> {
  /** Shutdown reaches the socket's calls through its session (each ends with END, then the socket closes). */
  private readonly callSignal = new CallSignal();
  private finished = false;
  private halfClosed = false;
  private headersSent = false;
  /** Request messages the client may still send. */
  private requestCredit = WS_REQUEST_WINDOW;
  private consumed = 0;
  private readonly pending: (Uint8Array | null)[] = [];
  private reader: RequestReader | undefined;
  private paused = false;
  private waiters: (() => void)[] = [];
  private settle: { resolve(): void; reject(error: unknown): void } | undefined;
  /** Settles when the call has finished; see the class comment. */
  readonly done: Promise<void>;

  constructor(
    readonly id: number,
    private readonly link: CallLink,
    private readonly output: DescMessage,
    /** Response messages the client accepts before it grants more. */
    private responseCredit: number,
    /** Headers that name the call (responseIds): in HEADERS, or in END's metadata when it ends first. */
    private ids: Record<string, string> | undefined,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A call refused by a policy finishes with nobody waiting on `done`.
    this.done.catch(() => undefined);
    // A passed deadline ends the call with END (close() aborts it too, after it has finished).
    this.callSignal.signal.addEventListener(
      "abort",
      () => this.end(this.callSignal.signal.reason),
      {
        once: true,
      },
    );
  }

  /** Aborts when the call ends, however it ends; the reason says how. */
  get signal(): AbortSignal {
    return this.callSignal.signal;
  }

  /** End the call with DEADLINE_EXCEEDED after `timeoutMs`, as connect-node's deadline does. */
  setDeadline(timeoutMs: number): void {
    this.callSignal.setDeadline(timeoutMs);
  }

  /** A MESSAGE frame from the client. */
  message(bytes: Uint8Array): void {
    if (this.finished) return;
    if (this.halfClosed) {
      this.end(
        new ConnectError(
          `protocol error: call ${this.id} sent a message after its half-close`,
          Code.InvalidArgument,
        ),
      );
      return;
    }
    if (this.requestCredit <= 0) {
      this.end(
        new ConnectError(
          `protocol error: call ${this.id} sent a message beyond its credit (a call may send ${WS_REQUEST_WINDOW} messages, then as many as CREDIT frames grant)`,
          Code.ResourceExhausted,
        ),
      );
      return;
    }
    this.requestCredit--;
    this.pending.push(bytes);
    this.pump();
  }

  /** A HALF_CLOSE frame from the client; a second one changes nothing. */
  halfClose(): void {
    if (this.finished || this.halfClosed) return;
    this.halfClosed = true;
    this.pending.push(null);
    this.pump();
  }

  /** A CREDIT frame: the client takes `count` more responses. */
  credit(count: number): void {
    this.responseCredit += count;
    if (this.responseCredit > 0) this.wake();
  }

  /** The call was admitted and started: send HEADERS and feed `reader` what came so far. */
  start(reader: RequestReader): void {
    if (this.finished) return;
    this.sendHeaders();
    this.reader = reader;
    this.pump();
  }

  /** ReplySink: one response; false once the client's credit is used up. */
  send(response: CoreReply<unknown>): boolean {
    if (this.finished) return true;
    this.sendHeaders();
    this.link.write(this.frame(response));
    this.responseCredit--;
    return this.responseCredit > 0;
  }

  /** ReplySink: resolves when the client grants credit, or the call is over. */
  drained(): Promise<void> {
    if (this.finished || this.responseCredit > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** ReplySink and refusals: end the call with END (OK without an error). Later calls do nothing. */
  end(reason?: unknown): void {
    if (this.finished) return;
    const error = reason === undefined ? undefined : callError(reason);
    // A call that ends before its headers (a refusal) names itself in END's metadata.
    const metadata = new Headers(this.headersSent ? undefined : this.ids);
    this.link.write(
      encodeWsJsonFrame(WsFrameType.end, this.id, endStreamToJson(metadata, error, undefined)),
    );
    this.close(error);
  }

  /**
   * End the call without an END frame: the client cancelled it, or the
   * socket is gone. `reason` is what the core and the request log see.
   */
  drop(reason: ConnectError): void {
    if (this.finished) return;
    this.close(reason);
  }

  private close(error: ConnectError | undefined): void {
    this.finished = true;
    this.callSignal.release();
    this.link.forget(this.id);
    this.pending.length = 0;
    this.wake();
    this.callSignal.abort(error ?? new ConnectError("the call is over", Code.Canceled));
    if (error === undefined) this.settle?.resolve();
    else this.settle?.reject(error);
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.link.write(encodeWsJsonFrame(WsFrameType.headers, this.id, this.ids ?? {}));
    // Sent: an open stream need not keep them.
    this.ids = undefined;
  }

  /**
   * A response's MESSAGE frame. An event batch (a Subscribe or Chat reply,
   * built for each subscriber) is written straight after the frame header:
   * the events' shared bytes are copied once per subscriber, not twice.
   */
  private frame(response: CoreReply<unknown>): Uint8Array {
    const type = WsFrameType.responseMessage;
    if (response instanceof Reply) {
      if (response.bytesAfter === undefined) return encodeWsFrame(type, this.id, response.bytes());
      return writeWsFrameHeader(response.bytesAfter(WS_FRAME_HEADER_BYTES), type, this.id);
    }
    // Cores may answer with an init object, as connect-node's handlers may.
    const message = isMessage(response, this.output)
      ? response
      : create(this.output, response as never);
    return encodeWsFrame(type, this.id, toBinary(this.output, message));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Hand held requests to the reader in order, pausing while it asks to wait. */
  private pump(): void {
    const reader = this.reader;
    while (reader !== undefined && !this.paused && !this.finished && this.pending.length > 0) {
      const item = this.pending.shift() as Uint8Array | null;
      let waiting: void | Promise<void>;
      try {
        waiting = reader(item);
      } catch (error) {
        this.end(error);
        return;
      }
      if (waiting === undefined) {
        if (item !== null) this.consumedOne();
        continue;
      }
      this.paused = true;
      waiting.then(
        () => {
          this.paused = false;
          if (item !== null) this.consumedOne();
          this.pump();
        },
        (error: unknown) => this.end(error),
      );
    }
  }

  /** Give credit back in batches as the call consumes requests. */
  private consumedOne(): void {
    if (this.finished || this.halfClosed) return;
    this.consumed++;
    if (this.consumed < GRANT_EVERY) return;
    this.requestCredit += this.consumed;
    this.link.write(encodeWsCredit(this.id, this.consumed));
    this.consumed = 0;
  }
}
