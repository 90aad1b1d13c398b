import { Code, ConnectError } from "@connectrpc/connect";
import { endStreamFromJson } from "@connectrpc/connect/protocol-connect";
import { encodeWsCredit, encodeWsFrame, WsFrameType } from "../wire/ws-frames.js";

/** How a client call writes to its socket. */
export interface CallWriter {
  /** Send a frame; false when the socket is gone. */
  send(frame: Uint8Array): boolean;
  /** The call is over: forget its id. */
  forget(id: number): void;
}

/**
 * One call on the client's shared socket: the frames the server sends it
 * (HEADERS, MESSAGE, END, CREDIT) fill its state, and the transport reads
 * headers, responses and the end from it. Response credit is granted back
 * as the caller reads, so a caller that stops reading stops only its own call.
 */
export class ClientCall {
  private readonly responses: Uint8Array[] = [];
  private ending: { error: ConnectError | undefined; trailer: Headers } | undefined;
  private wake: (() => void) | undefined;
  private requestCredit: number;
  private creditWaiter: (() => void) | undefined;
  private read = 0;
  readonly header: Promise<Headers>;
  private headerSettle!: { resolve(h: Headers): void; reject(e: unknown): void };
  /** The response headers, once HEADERS came: an error's metadata carries them too. */
  private received: Headers | undefined;

  constructor(
    readonly id: number,
    private readonly writer: CallWriter,
    private readonly credit: number,
    requestWindow: number,
  ) {
    this.requestCredit = requestWindow;
    this.header = new Promise((resolve, reject) => {
      this.headerSettle = { resolve, reject };
    });
    this.header.catch(() => undefined);
  }

  /** True once END came, the call failed or it was cancelled. */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** A frame from the server for this call. */
  frame(type: number, payload: Uint8Array): void {
    if (this.ending !== undefined) return;
    switch (type) {
      case WsFrameType.headers:
        this.received = new Headers(JSON.parse(new TextDecoder().decode(payload)));
        this.headerSettle.resolve(this.received);
        return;
      case WsFrameType.responseMessage:
        this.responses.push(payload);
        this.notify();
        return;
      case WsFrameType.credit:
        this.requestCredit += new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
        this.creditWaiter?.();
        return;
      case WsFrameType.end: {
        const end = endStreamFromJson(payload);
        this.finish(end.error, end.metadata);
      }
    }
  }

  /** Send a request message once the server's credit allows it. */
  async sendMessage(bytes: Uint8Array): Promise<void> {
    while (this.requestCredit <= 0 && this.ending === undefined) {
      await new Promise<void>((resolve) => {
        this.creditWaiter = resolve;
      });
      this.creditWaiter = undefined;
    }
    this.throwIfFailed();
    this.requestCredit--;
    this.writer.send(encodeWsFrame(WsFrameType.message, this.id, bytes));
  }

  /** No more request messages. */
  halfClose(): void {
    if (this.ending === undefined) this.writer.send(encodeWsFrame(WsFrameType.halfClose, this.id));
  }

  /** Abandon the call: CANCEL to the server, `error` to the reader. */
  cancel(error: ConnectError): void {
    if (this.ending !== undefined) return;
    this.writer.send(encodeWsFrame(WsFrameType.cancel, this.id));
    this.finish(error, new Headers());
  }

  /** End the call here without telling the server (the socket is gone). */
  fail(error: ConnectError): void {
    this.finish(error, new Headers());
  }

  /** The responses, in order; throws the call's error after the last. */
  async *messages(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.responses.shift();
      if (next !== undefined) {
        this.read++;
        // Give credit back in batches, as the caller reads.
        if (this.read >= this.credit / 2 && this.ending === undefined) {
          this.writer.send(encodeWsCredit(this.id, this.read));
          this.read = 0;
        }
        yield next;
        continue;
      }
      if (this.ending !== undefined) {
        if (this.ending.error !== undefined) throw this.ending.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  /** Trailers (END's metadata), once the call is over. */
  get trailer(): Headers {
    return this.ending?.trailer ?? new Headers();
  }

  private throwIfFailed(): void {
    if (this.ending?.error !== undefined) throw this.ending.error;
    if (this.ending !== undefined) {
      throw new ConnectError(
        "the call ended before its requests were sent",
        Code.FailedPrecondition,
      );
    }
  }

  private finish(error: ConnectError | undefined, trailer: Headers): void {
    if (this.ending !== undefined) return;
    this.ending = { error, trailer };
    // As connect's own transports do: an error's metadata holds the headers and the trailers.
    this.received?.forEach((value, name) => {
      if (error !== undefined && !error.metadata.has(name)) error.metadata.set(name, value);
    });
    this.writer.forget(this.id);
    if (error !== undefined) this.headerSettle.reject(error);
    else this.headerSettle.resolve(new Headers());
    this.notify();
    this.creditWaiter?.();
  }

  private notify(): void {
    this.wake?.();
  }
}
