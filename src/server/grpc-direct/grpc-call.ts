import type { ServerHttp2Stream } from "node:http2";
import type { ConnectError } from "@connectrpc/connect";
import { contentTypeProto, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { CallEnd } from "../../calls/call-end.js";
import { callError } from "../../calls/call-error.js";
import { closeReason } from "../close-reason.js";
import { CallSignal } from "../edge/call-signal.js";
import { NO_SNIFF } from "../no-sniff.js";
import { specGrpcMessage } from "../workarounds/grpc-message.js";

/** What a call needs to know when it starts. */
export interface CallStart {
  /** The server's shutdown signal; its reason ends the call. */
  shutdownSignal: AbortSignal;
  /** The response's grpc-encoding header, as connect-node negotiates it (messages are never compressed). */
  responseEncoding: string | undefined;
  /** Headers that name the call (responseIds), sent with the response headers. */
  ids: Record<string, string> | undefined;
}

/**
 * The response side of one gRPC call answered directly on its HTTP/2 stream,
 * in the shape connect-node answers: headers (200, application/grpc+proto)
 * before anything else, then messages, then trailers with the status, an
 * error included.
 *
 * `signal` aborts when the client goes away, the deadline passes or the
 * server shuts down, with the reason connect-node would give; `done` settles
 * when the call has finished: resolved for OK, rejected with the error the
 * client was told (its cause kept for the log).
 */
export class GrpcCall {
  private readonly callSignal: CallSignal;
  private headersSent = false;
  private finished = false;
  private trailers: Readonly<Record<string, string>> = OK_TRAILERS;
  private corked: Uint8Array[] | undefined;
  private settle: { resolve(): void; reject(error: unknown): void } | undefined;
  /** Settles when the call has finished; see the class comment. */
  readonly done: Promise<void>;

  constructor(
    readonly stream: ServerHttp2Stream,
    private readonly start: CallStart,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A call refused by a policy finishes with nobody waiting on `done`.
    this.done.catch(ignore);
    this.callSignal = new CallSignal(start.shutdownSignal);
    // The stream's listeners are shared functions that find the call on the
    // stream: an idle stream then holds no closure, once-wrapper or bound
    // function for them (bench/stream-heap.ts --census).
    (stream as CallStream)[CALL] = this;
    stream.on("close", onStreamClose);
    // A reset or a broken connection also reaches 'close'; no other listener is needed.
    stream.on("error", ignore);
  }

  /** The stream closed (it fires once): a call not finished by then lost its client. */
  streamClosed(): void {
    if (!this.finished) {
      const reason = closeReason(this.stream.rstCode);
      this.callSignal.clientGone(reason);
      // Nothing can be written any more; the handler's own finish() will find the stream gone.
      this.settle?.reject(reason);
    }
    this.release();
  }

  /** Node asks for the trailers (it does once, after end()). */
  trailersWanted(): void {
    // A stream reset at this point has nowhere to send them; sendTrailers would throw.
    if (!this.stream.destroyed) this.stream.sendTrailers(this.trailers);
  }

  get signal(): AbortSignal {
    return this.callSignal.signal;
  }

  /** The call's end without an AbortSignal (see CallEnd). */
  get end(): CallEnd {
    return this.callSignal;
  }

  /** Run `hook` when the call aborts (see CallSignal.onAbort); returns its removal. */
  onAbort(hook: (reason: unknown) => void): () => void {
    return this.callSignal.onAbort(hook);
  }

  /** True once finish() ran: nothing more is written. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Abort the call with DEADLINE_EXCEEDED after `timeoutMs`, as connect-node's deadline signal does. */
  setDeadline(timeoutMs: number): void {
    this.callSignal.setDeadline(timeoutMs);
  }

  /**
   * Write one framed message. Returns false when the stream's buffer is full:
   * the caller waits for drained() before producing more.
   */
  send(frame: Uint8Array): boolean {
    if (this.finished || this.stream.destroyed) return true;
    if (this.corked !== undefined) {
      this.corked.push(frame);
      return true;
    }
    this.sendHeaders();
    return this.stream.write(frame);
  }

  /** Collect what send() is given until uncork(), to write it as one chunk. */
  cork(): void {
    this.corked ??= [];
  }

  /** Write what was collected since cork(); false when the stream's buffer is full. */
  uncork(): boolean {
    const frames = this.corked;
    this.corked = undefined;
    if (frames === undefined || frames.length === 0) return true;
    return this.send(frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames));
  }

  /** Resolves when the stream can take more, or the call ended. */
  drained(): Promise<void> {
    if (this.finished || this.stream.destroyed || !this.stream.writableNeedDrain) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let unhook: (() => void) | undefined;
      const done = () => {
        this.stream.off("drain", done);
        unhook?.();
        resolve();
      };
      this.stream.on("drain", done);
      unhook = this.callSignal.onAbort(done);
    });
  }

  /** End the call: OK without an error, otherwise the error's status. Later calls do nothing. */
  finish(reason?: unknown): void {
    if (this.finished) return;
    this.uncork();
    this.finished = true;
    this.release();
    const error = reason === undefined ? undefined : callError(reason);
    if (error === undefined) this.settle?.resolve();
    else this.settle?.reject(error);
    if (this.stream.destroyed || this.stream.closed) return;
    if (error !== undefined) {
      // Whatever else the client sends is read and dropped, so the stream can end.
      this.stream.resume();
      this.trailers = errorTrailers(error);
    }
    this.sendHeaders();
    this.stream.end();
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const headers: Record<string, string | number> = {
      ":status": 200,
      "content-type": contentTypeProto,
      // As the connect path's withNoSniff sends it.
      [NO_SNIFF.name]: NO_SNIFF.value,
    };
    if (this.start.responseEncoding !== undefined) {
      headers["grpc-encoding"] = this.start.responseEncoding;
    }
    Object.assign(headers, this.start.ids);
    // Sent: an open stream need not keep them.
    this.start.ids = undefined;
    this.stream.respond(headers, { waitForTrailers: true });
    this.stream.on("wantTrailers", onWantTrailers);
  }

  private release(): void {
    this.callSignal.release();
  }
}

/** The trailers connect-node sends for an error: its own helper, then the grpc-message workaround. */
function errorTrailers(error: ConnectError): Record<string, string> {
  const trailers: Record<string, string> = {};
  setTrailerStatus(new Headers(), error).forEach((value, key) => {
    trailers[key] = key === "grpc-message" ? specGrpcMessage(value) : value;
  });
  return trailers;
}

/** The trailers of a call that ended OK, shared by all. */
const OK_TRAILERS: Readonly<Record<string, string>> = Object.freeze({ "grpc-status": "0" });

/** Where a stream keeps its call, for the shared listeners below. */
const CALL = Symbol("parley grpc call");
type CallStream = ServerHttp2Stream & { [CALL]?: GrpcCall };

function onStreamClose(this: CallStream): void {
  this[CALL]?.streamClosed();
}

function onWantTrailers(this: CallStream): void {
  this[CALL]?.trailersWanted();
}

/** One listener for every stream's 'error' (see the constructor), and `done`'s catch. */
function ignore(): void {}
